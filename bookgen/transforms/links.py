"""stub"""


def run(book, context):
    return book
