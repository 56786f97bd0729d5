"""`fleetdns status`: one row per inventory name, what the provider and each authoritative server
hold, the owner, when it last changed, and a verdict. Changes nothing.

The engine is plugins/module_utils/status.py. Exit codes: 0 every name ok, 3 some name not ok
(for monitors and scheduled pipelines), 1 an error before any row (invalid inventory, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING

from ..options import DEFAULT_WORKERS, workers_count
from . import Context, Loaded, load

if TYPE_CHECKING:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import Providers
    from ansible_collections.fleetdns.ddns.plugins.module_utils.status import Row, ServerAnswer

NAME = "status"
ORDER = 4
LONG_RUNNING = True  # --watch keeps running
EXIT_NOT_OK = 3


def add_parser(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        NAME,
        parents=parents,
        help="show the health of every inventory name (provider, each name server, owner, verdict)",
        description="For every declared record set and device name: what the provider holds, what each "
        "authoritative server of its zone answers, the owner, when it last changed (where the backend can "
        "tell) and a verdict: ok, stale, mismatch, missing, unowned or unreachable. Exit 0 when every name "
        "is ok, 3 when some name is not, 1 on an error. Changes nothing.",
    )
    parser.add_argument(
        "--zone", action="append", metavar="ZONE", help="only this zone (repeat for several); default: every zone"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON (and nothing else) on stdout")
    parser.add_argument(
        "--watch",
        nargs="?",
        const=10.0,
        type=_seconds,
        metavar="SECONDS",
        help="refresh every SECONDS (default 10) until Ctrl-C; exits with the last round's code",
    )
    parser.add_argument(
        "--workers",
        type=workers_count,
        default=DEFAULT_WORKERS,
        metavar="N",
        help=f"zones read and servers asked at once (default {DEFAULT_WORKERS})",
    )
    parser.add_argument("--timeout", type=_seconds, default=3.0, metavar="SECONDS", help="per-server wait (default 3)")
    parser.set_defaults(run=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"{text} is not from 0 to 86400 seconds")
    return value


def run(ctx: Context) -> int:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import Providers, select_zones

    loaded = load(ctx)
    zones = select_zones(loaded.config, ctx.args.zone)
    with Providers(loaded.config, loaded.base_dir) as providers:
        code = _round(ctx, loaded, providers, zones)
        if not ctx.args.watch:
            return code
        # Ctrl-C ends a watch with the verdict of the last complete round, whenever it comes.
        try:
            while True:
                time.sleep(ctx.args.watch)
                code = _round(ctx, loaded, providers, zones)
        except KeyboardInterrupt:
            return code


def _round(ctx: Context, loaded: Loaded, providers: Providers, zones: list[str]) -> int:
    from ansible_collections.fleetdns.ddns.plugins.module_utils.status import fleet_status, worst

    args, out = ctx.args, ctx.out
    started = time.monotonic()
    rows = fleet_status(loaded.config, providers, zones, workers=args.workers, timeout=args.timeout)
    counts = worst(rows)
    not_ok = len(rows) - counts["ok"]
    if args.json:
        out.result(json.dumps({"counts": counts, "rows": [row.to_dict() for row in rows]}, indent=2))
    else:
        if args.watch and sys.stdout.isatty():
            sys.stdout.write("\x1b[H\x1b[2J")  # a fresh screen per round
        out.result(_table(rows, out.color))
        summary = ", ".join(f"{count} {verdict}" for verdict, count in counts.items() if count)
        out.info(f"{len(rows)} name(s) in {time.monotonic() - started:.2f}s: {summary or 'none'}")
    return EXIT_NOT_OK if not_ok else 0


COLOURS = {"ok": "32", "stale": "33", "mismatch": "31", "missing": "31", "unowned": "35", "unreachable": "31"}


def _table(rows: list[Row], color: bool) -> str:
    header = ("NAME", "TYPE", "PROVIDER", "SERVERS", "OWNER", "CHANGED", "VERDICT")
    lines = []
    for row in rows:
        held = ",".join(row.held) if row.held else ("?" if row.held is None else "-")
        servers = " ".join(_server_text(answer, row.held) for answer in row.servers) or "-"
        verdict = f"{row.verdict}" + (f" ({row.reason})" if row.reason else "")
        if color:
            verdict = f"\x1b[{COLOURS[row.verdict]}m{verdict}\x1b[0m"
        lines.append(
            (row.name, row.type, f"{row.provider}={held}", servers, row.owner or "-", row.changed or "-", verdict)
        )
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header) - 1)]
    text = []
    for line in [header, *lines]:
        text.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)) + "  " + line[-1])
    return "\n".join(text)


def _server_text(answer: ServerAnswer, held: list[str] | None) -> str:
    """'127.0.0.1:53=same' when the server agrees with the provider, else what it answers."""
    if answer.values is None:
        return f"{answer.server}=error"
    if held is not None and answer.values == held:
        return f"{answer.server}=same"
    return f"{answer.server}={','.join(answer.values) or '-'}"
