"""The command line (SPEC §5): a thin layer over the core that never imports Textual.

Exit status: 0 done; 2 bad input or usage; 3 refused (role, or session locked); 1 a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from panel_tui.errors import PanelError, UsageError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; this keeps our prefix
        self.print_usage(sys.stderr)
        print(f"panel-tui: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS,
                        help="the contest's config.toml (default: ./config.toml, else the bundled 2022 demo)")
    parser = _Parser(prog="panel-tui", description="A console for the expert panel that decides a certification contest.",
                     parents=[common])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    validate = commands.add_parser("validate", parents=[common], help="check the config and every input file")
    validate.set_defaults(run=cmd_validate)
    rank = commands.add_parser("rank", parents=[common], help="print the leaderboards")
    rank.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rank.add_argument("--category", metavar="ID", help="only this category")
    rank.set_defaults(run=cmd_rank)
    return parser


def _load(args: argparse.Namespace):
    from panel_tui.config import find_config, load_config
    from panel_tui.inputs import load_contest

    config = load_config(find_config(getattr(args, "config", None)))
    return load_contest(config)


def cmd_validate(args: argparse.Namespace) -> int:
    from panel_tui.engine import standings
    from panel_tui.report import validation_summary

    data = _load(args)
    checked, warnings = validation_summary(data, standings(data))
    for line in checked:
        print(f"ok  {line}")
    for line in warnings:
        print(f"warning  {line}")
    print(f"valid: {len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    from panel_tui.engine import standings, to_json
    from panel_tui.report import csv_text, table

    data = _load(args)
    if args.category is not None and args.category not in {c.id for c in data.config.categories}:
        known = ", ".join(c.id for c in data.config.categories)
        raise UsageError(f"unknown category {args.category!r} (the config has: {known})")
    result = standings(data)
    if args.format == "json":
        # dumps, then one write: json.dump's many small writes cost seconds at 10,000 entries.
        sys.stdout.write(json.dumps(to_json(result, category=args.category), ensure_ascii=False) + "\n")
    elif args.format == "csv":
        sys.stdout.write(csv_text(result, category=args.category))
    else:
        sys.stdout.write(table(result, category=args.category))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        print("\nThe interactive console is not built yet: try `panel-tui rank`.", file=sys.stderr)
        return 2
    try:
        return args.run(args)
    except PanelError as exc:
        print(f"panel-tui: {exc}", file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # e.g. `panel-tui rank | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
