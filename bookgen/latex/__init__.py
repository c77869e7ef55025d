"""LaTeX output: escaping, one render function per node type, Jinja2 templates."""
