#!/usr/bin/env python
"""DNSPod benchmark: API requests and wall time, fleetdns against the `ddns` client, same emulator.

    .venv/bin/python bench/dnspod_bench.py [--existing 5000] [--new 1000]

Steps, each run by the tool's own command line against a fresh DNSPod emulator (tests/emulators, its
own process, HTTPS with a test CA, every TC3 signature verified, rate limits off so neither tool is
throttled) holding `--existing` A records:

1. apply: `--new` new A records (n0 ... nN, one address) are created;
2. no-op: the same again. fleetdns `plan` reads the zone and must change nothing. ddns is run twice:
   with its local cache file (its normal mode: it sends nothing for a name whose address it
   remembers setting, without asking the API what is there), and with `--no-cache`, where it asks the
   API about every name and, finding the record, sends a ModifyRecord for it even when nothing differs
   (ddns 4.x updates whatever record it finds).

The peer is NewFuture's `ddns` 4.x (its `tencentcloud` provider, DNSPod API 3.0), the same package the
conformance tests run, from the project's venv; given every new name on one command line, it handles
them one after the other: it looks up the domain and then the record, and creates it. octoDNS has no
DNSPod provider among the packages it publishes, so it is not compared here. Requests are counted by
the emulator, per action.
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
from emulators.launch import DnspodProcess  # noqa: E402

FLEETDNS = Path(sys.executable).parent / "fleetdns"
DDNS = Path(sys.executable).parent / "ddns"
OWNER = "fleet-bench"
ZONE = "example.test"
NEW_ADDRESS = "10.250.0.1"
TTL = 600


def seed(emulator: DnspodProcess, existing: int, remark: str) -> None:
    records = [
        {"SubDomain": f"e{i}", "RecordType": "A", "Value": address(i), "TTL": TTL, "Remark": remark}
        for i in range(existing)
    ]
    emulator.add_domain(ZONE, records)


def count(emulator: DnspodProcess) -> int:
    return len([r for r in emulator.records(ZONE) if r["Type"] == "A"])


# ---- fleetdns -------------------------------------------------------------------------------------------------
def fleetdns_inventory(path: Path, emulator: DnspodProcess, existing: int, new: int) -> None:
    lines = [
        "all:",
        "  vars:",
        f"    fleetdns_owner: {OWNER}",
        "    fleetdns_providers:",
        "      dp:",
        "        type: dnspod",
        f"        secret_id: {emulator.secret_id}",
        "        secret_key: \"{{ lookup('env', 'BENCH_DNSPOD_KEY') }}\"",
        f"        endpoint: {emulator.https_url}",
        f"        ca_bundle: {emulator.ca_file}",
        "    fleetdns_zones:",
        f"      {ZONE}:",
        "        provider: dp",
        f"        default_ttl: {TTL}",
        "        records:",
    ]
    lines += [f"          - {{name: e{i}, type: A, value: {address(i)}}}" for i in range(existing)]
    lines += [f"          - {{name: n{i}, type: A, value: {NEW_ADDRESS}}}" for i in range(new)]
    path.write_text("\n".join(lines) + "\n")


def run_fleetdns(argv: list[str], inventory: Path, emulator: DnspodProcess) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    env.update(BENCH_DNSPOD_KEY=emulator.secret_key, NO_COLOR="1")
    return run_timed([str(FLEETDNS), *argv, "-i", str(inventory)], env, 0, f"fleetdns {' '.join(argv)}")


def bench_fleetdns(work: Path, existing: int, new: int, repeat: int) -> dict:
    with DnspodProcess(work / "tls-fleetdns", rate_limit=False) as emulator:
        seed(emulator, existing, f"fleetdns-owner={OWNER}")
        inventory = work / "hosts.yml"
        fleetdns_inventory(inventory, emulator, existing, new)
        emulator.reset()
        apply_time = run_fleetdns(["apply", "--yes"], inventory, emulator)
        apply_stats = emulator.stats()
        assert count(emulator) == existing + new, "fleetdns did not create every record"
        noop_times, noop_stats = [], {}
        for _run in range(repeat):
            emulator.reset()
            noop_times.append(run_fleetdns(["plan", "--detailed-exitcode"], inventory, emulator))
            noop_stats = emulator.stats()
    return {"apply": (apply_stats, apply_time), "noop": (noop_stats, statistics.median(noop_times))}


# ---- ddns (tencentcloud) ------------------------------------------------------------------------------------
def run_ddns(work: Path, emulator: DnspodProcess, new: int, cache: bool = True) -> float:
    hosts = [f"n{i}.{ZONE}" for i in range(new)]
    argv = [str(DDNS), "--dns", "tencentcloud", "--id", emulator.secret_id, "--token", emulator.secret_key,
            "--endpoint", emulator.https_url, "--ssl", emulator.ca_file, "--ttl", str(TTL),
            "--ipv4", *hosts, "--index4", f"shell:echo {NEW_ADDRESS}", "--index6", "false",
            *(["--cache", str(work / "ddns.cache")] if cache else ["--no-cache"]),
            "--proxy", "DIRECT", "--log_level", "ERROR"]  # fmt: skip
    env = {**os.environ, "HOME": str(work)}
    return run_timed(argv, env, 0, "ddns")


def bench_ddns(work: Path, existing: int, new: int, repeat: int) -> dict:
    with DnspodProcess(work / "tls-ddns", rate_limit=False) as emulator:
        seed(emulator, existing, "")
        emulator.reset()
        apply_time = run_ddns(work, emulator, new)
        apply_stats = emulator.stats()
        assert count(emulator) == existing + new, f"ddns did not create every record ({count(emulator)})"
        result = {"apply": (apply_stats, apply_time)}
        for step, cache in (("noop", True), ("noop-uncached", False)):
            times, stats = [], {}
            for _run in range(repeat):
                emulator.reset()
                times.append(run_ddns(work, emulator, new, cache))
                stats = emulator.stats()
            assert count(emulator) == existing + new, "ddns changed the number of records"
            result[step] = (stats, statistics.median(times))
    return result


# ---- report --------------------------------------------------------------------------------------------------
def breakdown(stats: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(stats.items()) if k != "total")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--existing", type=int, default=5000, help="A records already in the zone")
    parser.add_argument("--new", type=int, default=1000, help="new A records to create")
    parser.add_argument("--repeat", type=int, default=3, help="no-op runs (the median time is shown)")
    args = parser.parse_args()
    for binary in (FLEETDNS, DDNS):
        if not binary.exists():
            sys.exit(f"{binary} not found: run `make venv` and start this with .venv/bin/python")
    with tempfile.TemporaryDirectory(prefix="fleetdns-dnspod-bench-") as tmp:
        work = Path(tmp)
        ours = bench_fleetdns(work, args.existing, args.new, args.repeat)
        peer = bench_ddns(work, args.existing, args.new, args.repeat)
    print(
        f"\nDNSPod: {args.new:,} new A records into a zone holding {args.existing:,} "
        "(emulator on loopback, HTTPS, TC3 verified; wall time of the whole command)\n"
    )
    header = f"{'step':<10} {'fleetdns':>24} {'ddns (tencentcloud)':>28} {'requests ratio':>16} {'time ratio':>12}"
    print(header)
    print("-" * len(header))
    rows = (("apply", "apply", "apply"), ("noop", "noop", "no-op"), ("noop", "noop-uncached", "no-op *"))
    for our_step, peer_step, label in rows:
        (our_stats, our_time), (peer_stats, peer_time) = ours[our_step], peer[peer_step]
        print(
            f"{label:<10} {our_stats['total']:>7} req {our_time:>8.2f} s {peer_stats.get('total', 0):>11} req "
            f"{peer_time:>10.2f} s {peer_stats.get('total', 0) / our_stats['total']:>15.1f}x "
            f"{peer_time / our_time:>11.1f}x"
        )
    print("  * ddns with --no-cache (fleetdns: the same plan)")
    print()
    for tool, result in (("fleetdns", ours), ("ddns", peer)):
        for step in result:
            print(f"  {tool} {step}: {breakdown(result[step][0]) or 'no requests'}")
    print(
        "\nDNSPod has no batch write: both tools send one CreateRecord per new record; what differs is the "
        "reading (fleetdns lists the zone 3,000 records a page, ddns looks up each name)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
