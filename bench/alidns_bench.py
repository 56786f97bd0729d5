#!/usr/bin/env python
"""Alibaba Cloud DNS benchmark: API requests and wall time, fleetdns against the `ddns` client, same emulator.

    .venv/bin/python bench/alidns_bench.py [--existing 5000] [--new 1000]

Steps, each run by the tool's own command line against a fresh Alibaba Cloud DNS emulator
(tests/emulators, its own process, HTTPS with a test CA, every request's ACS3 signature checked)
holding `--existing` A records:

1. apply: fleetdns's inventory declares the existing records plus `--new` new A records; the `ddns`
   client (NewFuture's, from PyPI, in the project's test extra) is given the `--new` names;
2. no-op: the same again, which must change nothing (fleetdns `plan`; `ddns` finds every address
   already set).

The `ddns` client updates names one by one (GetMainDomainName, DescribeSubDomainRecords, then
AddDomainRecord or UpdateDomainRecord for each); fleetdns reads the domain 500 records a page and
writes one request per record, plus the remark and the ownership marker of each new record set.
No octoDNS provider for Alibaba Cloud DNS is published on PyPI, so there is no third column.
Requests are counted by the emulator, per action.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from common import address, run_timed  # noqa: E402
from emulators.launch import AliDnsProcess  # noqa: E402

BIN = Path(sys.executable).parent
FLEETDNS, DDNS = BIN / "fleetdns", BIN / "ddns"
OWNER = "fleet-bench"
ZONE = "example.test"
NEW_ADDRESS = "192.0.2.77"  # ddns gives every name the one detected address


def seed(emulator: AliDnsProcess, existing: int, remark: str | None) -> None:
    records = [{"rr": f"e{i}", "type": "A", "value": address(i), "remark": remark} for i in range(existing)]
    emulator.add_domain(ZONE, records)


# ---- fleetdns ---------------------------------------------------------------------------------------------
def fleetdns_inventory(path: Path, emulator: AliDnsProcess, existing: int, new: int) -> None:
    lines = [
        "all:",
        "  vars:",
        f"    fleetdns_owner: {OWNER}",
        "    fleetdns_providers:",
        "      ali:",
        "        type: alidns",
        f"        access_key_id: {emulator.key_id}",
        "        access_key_secret: \"{{ lookup('env', 'BENCH_ALI_SECRET') }}\"",
        f"        endpoint: {emulator.https_url}",
        f"        ca_bundle: {emulator.ca_file}",
        "    fleetdns_zones:",
        f"      {ZONE}:",
        "        provider: ali",
        "        default_ttl: 600",
        "        records:",
    ]
    lines += [f"          - {{name: e{i}, type: A, value: {address(i)}}}" for i in range(existing)]
    lines += [f"          - {{name: n{i}, type: A, value: {NEW_ADDRESS}}}" for i in range(new)]
    path.write_text("\n".join(lines) + "\n")


def run_fleetdns(argv: list[str], inventory: Path, emulator: AliDnsProcess) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    env.update(BENCH_ALI_SECRET=emulator.key_secret, NO_COLOR="1")
    return run_timed([str(FLEETDNS), *argv, "-i", str(inventory)], env, 0, f"fleetdns {' '.join(argv)}")


def bench_fleetdns(work: Path, existing: int, new: int, repeat: int) -> dict:
    with AliDnsProcess(work / "tls-fleetdns") as emulator:
        seed(emulator, existing, f"fleetdns-owner={OWNER}")
        inventory = work / "hosts.yml"
        fleetdns_inventory(inventory, emulator, existing, new)
        emulator.reset()
        apply_time = run_fleetdns(["apply", "--yes"], inventory, emulator)
        apply_stats = emulator.stats()
        assert len(emulator.records(ZONE)) == existing + new, "fleetdns did not create every record"
        noop_times, noop_stats = [], {}
        for _run in range(repeat):
            emulator.reset()
            noop_times.append(run_fleetdns(["plan", "--detailed-exitcode"], inventory, emulator))
            noop_stats = emulator.stats()
    return {"apply": (apply_stats, apply_time), "noop": (noop_stats, statistics.median(noop_times))}


# ---- ddns -------------------------------------------------------------------------------------------------
def run_ddns(work: Path, emulator: AliDnsProcess, new: int) -> float:
    domains = [f"n{i}.{ZONE}" for i in range(new)]
    argv = [str(DDNS), "--dns", "alidns", "--id", emulator.key_id, "--token", emulator.key_secret,
            "--endpoint", emulator.https_url, "--ssl", emulator.ca_file, "--ipv4", *domains,
            "--index4", f"shell:echo {NEW_ADDRESS}", "--index6", "false", "--no-cache", "--proxy", "DIRECT",
            "--log_level", "ERROR"]  # fmt: skip
    env = {**os.environ, "HOME": str(work)}
    return run_timed(argv, env, 0, "ddns")


def bench_ddns(work: Path, existing: int, new: int, repeat: int) -> dict:
    with AliDnsProcess(work / "tls-ddns") as emulator:
        seed(emulator, existing, None)
        emulator.reset()
        apply_time = run_ddns(work, emulator, new)
        apply_stats = emulator.stats()
        assert len(emulator.records(ZONE)) == existing + new, "ddns did not create every record"
        noop_times, noop_stats = [], {}
        for _run in range(repeat):
            emulator.reset()
            noop_times.append(run_ddns(work, emulator, new))
            noop_stats = emulator.stats()
            writes = {k: v for k, v in noop_stats.items() if k in ("AddDomainRecord", "UpdateDomainRecord")}
            assert not writes, f"ddns no-op wrote: {writes}"
    return {"apply": (apply_stats, apply_time), "noop": (noop_stats, statistics.median(noop_times))}


# ---- report -----------------------------------------------------------------------------------------------
def breakdown(stats: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(stats.items()) if k != "total")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--existing", type=int, default=5000, help="A records already in the domain")
    parser.add_argument("--new", type=int, default=1000, help="new A records to apply")
    parser.add_argument("--repeat", type=int, default=3, help="no-op runs (the median time is shown)")
    args = parser.parse_args()
    for binary in (FLEETDNS, DDNS):
        if not binary.exists():
            sys.exit(f"{binary} not found: run `make venv` and start this with .venv/bin/python")
    with tempfile.TemporaryDirectory(prefix="fleetdns-ali-bench-") as tmp:
        work = Path(tmp)
        ours = bench_fleetdns(work, args.existing, args.new, args.repeat)
        peer = bench_ddns(work, args.existing, args.new, args.repeat)
    print(
        f"\nAlibaba Cloud DNS: {args.new:,} new A records into a domain holding {args.existing:,} "
        "(emulator on loopback, HTTPS; wall time of the whole command)\n"
    )
    header = f"{'step':<10} {'fleetdns':>24} {'ddns 4.2.0 (alidns)':>26} {'requests ratio':>16} {'time ratio':>12}"
    print(header)
    print("-" * len(header))
    for step, label in (("apply", "apply"), ("noop", "no-op plan")):
        (our_stats, our_time), (peer_stats, peer_time) = ours[step], peer[step]
        print(
            f"{label:<10} {our_stats['total']:>7} req {our_time:>8.2f} s {peer_stats['total']:>9} req "
            f"{peer_time:>10.2f} s {peer_stats['total'] / our_stats['total']:>15.2f}x {peer_time / our_time:>11.2f}x"
        )
    print("\n(ratio = ddns / fleetdns: above 1 means fleetdns needed fewer requests or less time)\n")
    for tool, result in (("fleetdns", ours), ("ddns", peer)):
        for step in ("apply", "noop"):
            print(f"  {tool} {step}: {breakdown(result[step][0])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
