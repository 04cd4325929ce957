"""``python-memory``: the course's command line, one subcommand per job.

Each subcommand lives in its own module, which provides ``add_parser(subparsers)``
and sets ``run`` as the parser's default; ``main`` only dispatches.
"""

from __future__ import annotations

import argparse
import sys

from . import grade_class, report, student_setup

SUBCOMMANDS = (student_setup, grade_class, report)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python-memory", description="The Python Memory course's tools.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
