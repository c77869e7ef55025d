"""Series of the blog, by name: which posts are chapters of a series, in which order, titled how.

* ``titles``: a post's title → its series, number and subtitle
  (``生成扩散模型漫谈（二十四）：少走捷径，更快到达`` → 生成扩散模型漫谈, 24, 少走捷径，更快到达);
* ``catalog``: where titles come from — the posts in the source folders, a list
  of the blog's posts (``--index`` JSON or TSV), the site's archive page;
* ``resolve``: the series found in a catalog, ordered, with their gaps and
  conflicts; a ``series:`` volume of the manifest made an ordinary list of chapters;
* ``chapters``: the chapter titles and numbers of a book, short or full;
* ``lookup`` and ``display``: where the commands look for titles, and what ``bookgen series`` prints;
* ``manifest_edit``: ``bookgen add``, a volume appended to series.yaml without
  touching a byte of what is there.
"""
