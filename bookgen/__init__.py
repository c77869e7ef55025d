"""bookgen: compile series of posts from 科学空间 (spaces.ac.cn) into books.

The pipeline, one module per stage:
manifest → sources/readers (load, parse) → transforms (normalize, convert)
→ latex (render) → compile.
"""

__version__ = "0.1.0"
