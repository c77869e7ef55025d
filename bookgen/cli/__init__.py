"""The command line: ``bookgen COMMAND``, one module per family of commands.

``common.user_errors`` is the one place that turns a ``UserError`` into a
``file:line: message`` and an exit code; every command goes through it.
"""

from __future__ import annotations

import click

from bookgen import __version__
from bookgen.cli.build import build, check, diff, list_volumes
from bookgen.cli.fetch import fetch
from bookgen.cli.series import add, series_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bookgen")
def main():
    """Turn series of posts from 科学空间 (spaces.ac.cn) into ctexbook PDF books.

    Volumes and their chapters are listed in series.yaml; posts are found by
    archive id in the source folders (--sources, BOOKGEN_SOURCES, the manifest).
    """


for command in (list_volumes, build, check, diff, fetch, series_command, add):
    main.add_command(command)
