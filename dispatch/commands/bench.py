"""`dispatch bench`: a thin wrapper that runs `python -m bench` in the source checkout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

import dispatch

PACKAGE_ROOT = Path(dispatch.__file__).resolve().parents[1]


def checkout(candidates: tuple[Path, ...] | None = None) -> Path | None:
    """The source checkout holding bench/ (the benchmarks are not part of the package):
    beside the installed package, else the current directory."""
    for root in candidates or (PACKAGE_ROOT, Path.cwd()):
        if (root / "bench" / "__main__.py").is_file():
            return root
    return None


@click.command()
@click.option(
    "--quick",
    is_flag=True,
    help="A smoke run: every benchmark at small sizes, side by side (about a minute).",
)
def bench(quick: bool) -> None:
    """Run every benchmark (ring to page, risk pipeline, replay, memory, scale out, the
    embedded broker as it fills) on embedded stacks of their own and print one Markdown
    table: each figure beside its ceiling, the ratio and the target. Figures are printed,
    never asserted.

    Needs the repository checkout: the benchmarks live in its bench/ folder, which is not
    installed with the package. It is looked for beside the installed `dispatch` package
    (an editable install, `pip install -e .`) and in the current directory; the same run
    is `python -m bench [--quick]` from the repo root. The full run takes several minutes.
    """
    root = checkout()
    if root is None:
        click.echo(
            "dispatch bench: no bench/ folder found beside the dispatch package "
            f"({PACKAGE_ROOT}) or in the current directory; run it from the repository "
            "checkout (the benchmarks are not installed with the package)",
            err=True,
        )
        sys.exit(2)
    argv = [sys.executable, "-m", "bench", *(["--quick"] if quick else [])]
    sys.exit(subprocess.run(argv, cwd=root, check=False).returncode)
