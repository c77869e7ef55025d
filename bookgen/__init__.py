"""bookgen: compile series of posts from 科学空间 (spaces.ac.cn) into books.

The pipeline, one module per stage, ``model`` (immutable) the only thing passed on:
manifest → sources/readers (load, parse) → transforms (normalize, convert)
→ latex (render) → compile.

``pipeline`` runs it for one volume; ``repairs`` reads and repairs each post on
its own (from ``cache``, or in a process pool); ``fallback`` is the compile
stage's ladder for what TeX rejects; ``review`` is ``bookgen diff``; ``series``
finds a series' chapters by name; ``fetch``/``web`` download pages; ``cli`` is
the command line. What every pass knows about TeX commands is in ``catalogue``.
"""

__version__ = "0.1.0"
