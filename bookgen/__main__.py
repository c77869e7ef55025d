"""``python -m bookgen`` and the ``bookgen`` command."""

import sys


def entry() -> None:
    # Ctrl-C while Python is still importing bookgen's libraries is a plain stop, not a traceback.
    try:
        from bookgen.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("bookgen: interrupted\n")
        sys.exit(130)
    main()


if __name__ == "__main__":
    entry()
