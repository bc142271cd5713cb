"""Shared pieces of the command line: consoles, JSON output, progress bars.

Every stage's CLI module (``eo_ray/<stage>/cli.py``) builds on these so that all verbs
look and behave alike: readable tables by default, ``--json`` for machines, progress
bars on stderr only when it is a terminal.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout (the ``--json`` form of every verb)."""
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def progress() -> Progress:
    """A Rich progress bar on stderr, silent when stderr is not a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=not err_console.is_terminal,
    )


def stage_app(help_text: str) -> typer.Typer:
    """A Typer sub-app for one stage, configured like the root command."""
    return typer.Typer(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False)
