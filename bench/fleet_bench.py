#!/usr/bin/env python
"""Fleet benchmark: many zones on two BIND servers, fleetdns against octoDNS + octodns-bind, and
`fleetdns status` of many names on one BIND.

    .venv/bin/python bench/fleet_bench.py [--zones 100] [--records 100] [--names 10000] [--workers 8] [--repeat 3]

Part 1, side by side in one run: `--zones` zones of `--records` A records each, half of them on one
named and half on another (tests/lab/bind.py, 127.0.0.1, TSIG key fleet-admin), one inventory (one
octoDNS config) for all of them. Each tool gets zones of its own (fz*.test. for fleetdns, oz*.test.
for octoDNS), same SOA, NS and ns1 A. Steps, each one run of the tool's command line timed from start
to exit:

1. create: every empty zone receives its records (fleetdns `apply --yes`; `octodns-sync --doit`);
2. no-op: the same again, which must change nothing (fleetdns `plan --detailed-exitcode`, exit 0;
   an `octodns-sync` dry run); no zone's SOA serial may move.

fleetdns owns its zones whole (`ownership: zone`, as octoDNS owns its zones) and reads `--workers`
zones at once; octoDNS runs with the same number of workers (its manager's `max_workers`), so both
have the same concurrency. After each step every zone of both tools is transferred (AXFR) and its
data compared with what was asked for. Target: fleetdns at least 5x faster on each step.

Part 2: one named, one zone of `--names` A records applied by fleetdns, then `fleetdns status`
(the provider's zone transfer plus one question per name to the zone's name server, pipelined),
which must report every name ok (exit 0). Target: under 5 s wall. octoDNS has no such command.

The peer, octoDNS 1.22 + octodns-bind 1.1, lives in its own venv (bench/.venv-octodns, made on first
use by bench/common.py, never in the project's venv).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bind_bench import PEER_LABEL, PEER_PACKAGES, PEER_VENV, TTL, byte_compile, expected_data, zone_data  # noqa: E402
from common import address, ensure_venv, run_timed  # noqa: E402
from lab.bind import BindLab  # noqa: E402

FLEETDNS = Path(sys.executable).parent / "fleetdns"
OWNER = "fleet-bench"
TARGET_RATIO = 5.0
TARGET_STATUS = 5.0

Records = dict[str, str]


def records_for(count: int) -> Records:
    return {f"h{i:04d}": address(i) for i in range(count)}


def secret_var(provider: str) -> str:
    """The environment variable that carries the TSIG secret of a provider (never a file)."""
    return f"BENCH_TSIG_{provider.upper()}"


def provider_yaml(name: str, lab: BindLab) -> list[str]:
    key = lab.keys["admin"]
    return [
        f"      {name}:",
        "        type: rfc2136",
        f"        server: {lab.host}",
        f"        port: {lab.port}",
        f"        tsig_key_name: {key.name}",
        f"        tsig_algorithm: {key.algorithm}",
        f"        tsig_secret: \"{{{{ lookup('env', '{secret_var(name)}') }}}}\"",
        "        timeout: 60",
    ]


def fleetdns_inventory(path: Path, placed: dict[str, tuple[str, BindLab]], records: Records, servers: bool) -> None:
    """One inventory: every zone (zone -> (provider name, its lab)), owned whole, with its records."""
    labs = dict(placed.values())
    lines = ["all:", "  vars:", f"    fleetdns_owner: {OWNER}", "    fleetdns_providers:"]
    for name, lab in labs.items():
        lines += provider_yaml(name, lab)
    lines.append("    fleetdns_zones:")
    body = {**records, "ns1": "127.0.0.1"}  # like octoDNS, it must list the zone's own NS target
    for zone, (name, lab) in placed.items():
        lines += [f"      {zone.rstrip('.')}:", f"        provider: {name}", f"        default_ttl: {TTL}"]
        lines += ["        ownership: zone"]
        if servers:
            lines.append(f'        name_servers: ["{lab.host}:{lab.port}"]')
        lines.append("        records:")
        lines += [f"          - {{name: {n}, type: A, value: {v}}}" for n, v in body.items()]
    path.write_text("\n".join(lines) + "\n")


def octodns_config(work: Path, placed: dict[str, tuple[str, BindLab]], records: Records, workers: int) -> Path:
    directory = work / "octodns-zones"
    directory.mkdir(exist_ok=True)
    body = {**records, "ns1": "127.0.0.1"}
    text = "---\n" + "".join(f"{n}:\n  ttl: {TTL}\n  type: A\n  value: {v}\n" for n, v in sorted(body.items()))
    lines = [
        "---",
        "manager:",
        f"  max_workers: {workers}",
        "providers:",
        "  config:",
        "    class: octodns.provider.yaml.YamlProvider",
        f"    directory: {directory}",
        f"    default_ttl: {TTL}",
        "    enforce_order: false",
    ]
    for name, lab in dict(placed.values()).items():
        key = lab.keys["admin"]
        lines += [
            f"  {name}:",
            "    class: octodns_bind.Rfc2136Provider",
            f"    host: {lab.host}",
            f"    port: {lab.port}",
            f"    key_name: {key.name}",
            f"    key_secret: env/{secret_var(name)}",
            f"    key_algorithm: {key.algorithm}",
            "    timeout: 60",
        ]
    lines.append("zones:")
    for zone, (name, _lab) in placed.items():
        (directory / f"{zone}yaml").write_text(text)
        lines += [f"  {zone}:", "    sources: [config]", f"    targets: [{name}]"]
    config = work / "octodns.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def verify(placed: dict[str, tuple[str, BindLab]], records: Records, step: str) -> dict[str, int]:
    want = expected_data(records)
    serials = {}
    for zone, (_name, lab) in placed.items():
        serial, have, markers = zone_data(lab, zone)
        if have != want or markers:
            sys.exit(f"after {step}, zone {zone} differs from what was asked (or holds markers)")
        serials[zone] = serial
    return serials


def part_one(
    args: argparse.Namespace, secret_env: dict[str, str], labs: tuple[BindLab, BindLab], rep: int
) -> dict[tuple[str, str], float]:
    """One repetition on fresh zones (fz<rep>-NNN.test., oz<rep>-NNN.test.): create, then no-op."""
    records = records_for(args.records)
    ours: dict[str, tuple[str, BindLab]] = {}
    peer: dict[str, tuple[str, BindLab]] = {}
    started = time.monotonic()
    for i in range(args.zones):
        name, lab = ("one", labs[0]) if i % 2 == 0 else ("two", labs[1])
        for prefix, placed in (("fz", ours), ("oz", peer)):
            zone = f"{prefix}{rep}-{i:03d}.test."
            lab.add_zone(zone)
            placed[zone] = (name, lab)
    print(f"  {2 * args.zones} zones added in {time.monotonic() - started:.1f}s", flush=True)
    with tempfile.TemporaryDirectory(prefix="fleetdns-fleet-bench-") as tmp:
        work = Path(tmp)
        inventory = work / "hosts.yml"
        fleetdns_inventory(inventory, ours, records, servers=False)
        config = octodns_config(work, peer, records, args.workers)
        sync = ensure_venv(PEER_VENV, PEER_PACKAGES) / "octodns-sync"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")} | secret_env | {"NO_COLOR": "1"}
        walls = {}
        walls["create", "fleetdns"] = run_timed(
            [str(FLEETDNS), "apply", "-i", str(inventory), "--yes", "--workers", str(args.workers)],
            env, 0, "fleetdns apply",
        )  # fmt: skip
        walls["create", "octoDNS"] = run_timed(
            [str(sync), "--config-file", str(config), "--quiet", "--doit"], env, 0, "octodns-sync --doit"
        )
        serials = verify(ours, records, "create") | verify(peer, records, "create")
        walls["noop", "fleetdns"] = run_timed(
            [str(FLEETDNS), "plan", "-i", str(inventory), "--detailed-exitcode", "--workers", str(args.workers)],
            env, 0, "fleetdns plan --detailed-exitcode (a no-op must exit 0)",
        )  # fmt: skip
        walls["noop", "octoDNS"] = run_timed(
            [str(sync), "--config-file", str(config), "--quiet"], env, 0, "octodns-sync (dry run)"
        )
        if verify(ours, records, "no-op") | verify(peer, records, "no-op") != serials:
            sys.exit("a no-op run changed a zone (its SOA serial moved)")
    return walls


def part_two(args: argparse.Namespace) -> float:
    records = {f"n{i:05d}": address(i) for i in range(args.names - 1)}  # + ns1: --names rows in all
    with BindLab("status.test.") as lab, tempfile.TemporaryDirectory(prefix="fleetdns-status-bench-") as tmp:
        inventory = Path(tmp) / "hosts.yml"
        fleetdns_inventory(inventory, {"status.test.": ("lab", lab)}, records, servers=True)
        secret_env = {secret_var("lab"): lab.keys["admin"].secret}
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")} | secret_env | {"NO_COLOR": "1"}
        run_timed([str(FLEETDNS), "apply", "-i", str(inventory), "--yes"], env, 0, "fleetdns apply")
        return run_timed([str(FLEETDNS), "status", "-i", str(inventory)], env, 0, "fleetdns status (all ok: exit 0)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--zones", type=int, default=100, help="zones per tool, half on each named")
    parser.add_argument("--records", type=int, default=100, help="A records per zone")
    parser.add_argument("--names", type=int, default=10000, help="names `status` reports on (one zone)")
    parser.add_argument("--workers", type=int, default=8, help="zones read at once, by both tools")
    parser.add_argument("--repeat", type=int, default=3, help="runs on fresh zones (medians shown)")
    args = parser.parse_args()
    if not FLEETDNS.exists():
        sys.exit(f"{FLEETDNS} not found: run `make venv` and start this with .venv/bin/python")
    ensure_venv(PEER_VENV, PEER_PACKAGES)
    byte_compile()
    ok = True
    with BindLab("fleet-a.test.") as one, BindLab("fleet-b.test.") as two:
        secret_env = {secret_var("one"): one.keys["admin"].secret, secret_var("two"): two.keys["admin"].secret}
        print(f"{args.zones} zones x {args.records} A records on two named, {args.workers} workers each", flush=True)
        runs = []
        for rep in range(1, args.repeat + 1):
            runs.append(part_one(args, secret_env, (one, two), rep))
            shown = " ".join(f"{key[1]} {key[0]} {wall:.2f}" for key, wall in runs[-1].items())
            print(f"  run {rep}/{args.repeat}: {shown} s (load {os.getloadavg()[0]:.2f})", flush=True)
        walls = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    print(
        f"\nmedians of {args.repeat} runs; {PEER_LABEL} as peer; fleetdns with ownership: zone "
        "(the zone owned whole, as octoDNS owns it)\n"
    )
    header = f"{'step':<11} {'fleetdns':>9} {'octoDNS':>9} {'ratio':>6}"
    print(header + "\n" + "-" * len(header))
    for step, label in (("create", "create"), ("noop", "no-op plan")):
        ratio = walls[step, "octoDNS"] / walls[step, "fleetdns"]
        ok &= ratio >= TARGET_RATIO
        print(f"{label:<11} {walls[step, 'fleetdns']:>7.2f} s {walls[step, 'octoDNS']:>7.2f} s {ratio:>5.1f}x")
    status = part_two(args)
    status_ok = status < TARGET_STATUS
    print(
        f"\nfleetdns status of {args.names:,} names on one named: {status:.2f} s "
        f"(target < {TARGET_STATUS:.0f} s: {'met' if status_ok else 'NOT met'})\n"
        f"targets: fleetdns >= {TARGET_RATIO:.0f}x faster on each step: {'met' if ok else 'NOT met'}; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)"
    )
    return 0 if ok and status_ok else 1


if __name__ == "__main__":
    sys.exit(main())
