#!/usr/bin/env python
"""Cloudflare benchmark: API requests and wall time, fleetdns against octodns-cloudflare, same emulator.

    .venv/bin/python bench/cloudflare_bench.py [--existing 5000] [--new 1000]

Steps, each run by the tool's own command line against a fresh Cloudflare emulator (tests/emulators,
its own process, HTTPS with a test CA, rate limit off so a peer is not stalled for 5 minutes) holding
`--existing` A records:

1. apply: the inventory / config declares the existing records plus `--new` new A records;
2. no-op: the same again, which must change nothing (fleetdns `plan`, octoDNS `octodns-sync` dry run).

The peer, octoDNS 1.22 + octodns-cloudflare 1.2.0 from PyPI, lives in its own venv
(bench/.venv-cloudflare-peer, created here on first use, never in the project's venv) and is pointed at
the emulator with its `api_url` option (`pagerules: false`: the emulator has no page rules API).
Requests are counted by the emulator, per endpoint. Targets: fleetdns makes at most 10 requests for the
apply and at least 100x fewer than the peer.
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

from common import address, ensure_venv, run_timed  # noqa: E402
from emulators.launch import CloudflareProcess  # noqa: E402

PEER_VENV = ROOT / "bench" / ".venv-cloudflare-peer"
PEER_PACKAGES = ["octodns==1.22.0", "octodns-cloudflare==1.2.0"]
FLEETDNS = Path(sys.executable).parent / "fleetdns"
OWNER = "fleet-bench"
ZONE = "example.test"
TARGET_REQUESTS = 10
TARGET_RATIO = 100


def seed(emulator: CloudflareProcess, existing: int, comment: str | None) -> str:
    """The zone as the tool left it: fleetdns's records carry its owner word, octoDNS's carry nothing."""
    records = [
        {"name": f"e{i}", "type": "A", "content": address(i), "ttl": 300, "comment": comment} for i in range(existing)
    ]
    return emulator.add_zone(ZONE, records)


def names(existing: int, new: int) -> list[tuple[str, str]]:
    return [(f"e{i}", address(i)) for i in range(existing)] + [(f"n{i}", address(existing + i)) for i in range(new)]


# ---- fleetdns -------------------------------------------------------------------------------------------------
def fleetdns_inventory(path: Path, emulator: CloudflareProcess, records: list[tuple[str, str]]) -> None:
    lines = [
        "all:",
        "  vars:",
        f"    fleetdns_owner: {OWNER}",
        "    fleetdns_providers:",
        "      cf:",
        "        type: cloudflare",
        "        api_token: \"{{ lookup('env', 'BENCH_CF_TOKEN') }}\"",
        f"        base_url: {emulator.https_url}",
        f"        ca_bundle: {emulator.ca_file}",
        "    fleetdns_zones:",
        f"      {ZONE}:",
        "        provider: cf",
        "        default_ttl: 300",
        "        records:",
    ]
    lines += [f"          - {{name: {name}, type: A, value: {value}}}" for name, value in records]
    path.write_text("\n".join(lines) + "\n")


def run_fleetdns(argv: list[str], inventory: Path, emulator: CloudflareProcess, expect: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
    env.update(BENCH_CF_TOKEN=emulator.token, NO_COLOR="1")
    return run_timed([str(FLEETDNS), *argv, "-i", str(inventory)], env, expect, f"fleetdns {' '.join(argv)}")


def bench_fleetdns(work: Path, existing: int, new: int, repeat: int) -> dict:
    with CloudflareProcess(work / "tls-fleetdns", rate_limit=False) as emulator:
        zone_id = seed(emulator, existing, f"fleetdns-owner={OWNER}")
        inventory = work / "hosts.yml"
        fleetdns_inventory(inventory, emulator, names(existing, new))
        emulator.reset()
        apply_time = run_fleetdns(["apply", "--yes"], inventory, emulator, 0)
        apply_stats = emulator.stats()
        assert len(emulator.records(zone_id)) == existing + new, "fleetdns did not create every record"
        noop_times, noop_stats = [], {}
        for _run in range(repeat):
            emulator.reset()
            noop_times.append(run_fleetdns(["plan", "--detailed-exitcode"], inventory, emulator, 0))
            noop_stats = emulator.stats()
    return {"apply": (apply_stats, apply_time), "noop": (noop_stats, statistics.median(noop_times))}


# ---- octoDNS + octodns-cloudflare -------------------------------------------------------------------------------
def octodns_config(work: Path, emulator: CloudflareProcess, records: list[tuple[str, str]]) -> Path:
    config_dir = work / "octodns-zones"
    config_dir.mkdir(exist_ok=True)
    body = [f"{name}:\n  ttl: 300\n  type: A\n  value: {value}\n" for name, value in sorted(records)]
    (config_dir / f"{ZONE}.yaml").write_text("---\n" + "".join(body))
    config = work / "octodns.yaml"
    config.write_text(
        "---\n"
        "providers:\n"
        "  config:\n"
        "    class: octodns.provider.yaml.YamlProvider\n"
        f"    directory: {config_dir}\n"
        "    default_ttl: 300\n"
        "    enforce_order: false\n"
        "  cf:\n"
        "    class: octodns_cloudflare.CloudflareProvider\n"
        "    token: env/BENCH_CF_TOKEN\n"
        f"    api_url: {emulator.https_url}\n"
        "    pagerules: false\n"
        "zones:\n"
        f"  {ZONE}.:\n"
        "    sources: [config]\n"
        "    targets: [cf]\n"
    )
    return config


def run_octodns(sync: Path, config: Path, emulator: CloudflareProcess, doit: bool) -> float:
    env = dict(os.environ, BENCH_CF_TOKEN=emulator.token, REQUESTS_CA_BUNDLE=emulator.ca_file)
    argv = [str(sync), "--config-file", str(config), "--quiet", *(["--doit"] if doit else [])]
    return run_timed(argv, env, 0, "octodns-sync")


def bench_octodns(work: Path, existing: int, new: int, repeat: int) -> dict:
    sync = ensure_venv(PEER_VENV, PEER_PACKAGES) / "octodns-sync"
    with CloudflareProcess(work / "tls-octodns", rate_limit=False) as emulator:
        zone_id = seed(emulator, existing, None)
        config = octodns_config(work, emulator, names(existing, new))
        emulator.reset()
        apply_time = run_octodns(sync, config, emulator, doit=True)
        apply_stats = emulator.stats()
        assert len(emulator.records(zone_id)) == existing + new, "octoDNS did not create every record"
        noop_times, noop_stats = [], {}
        for _run in range(repeat):
            emulator.reset()
            noop_times.append(run_octodns(sync, config, emulator, doit=False))
            noop_stats = emulator.stats()
            writes = {k: v for k, v in noop_stats.items() if not k.endswith(".list") and k != "total"}
            assert not writes, f"octoDNS no-op wrote: {writes}"
    return {"apply": (apply_stats, apply_time), "noop": (noop_stats, statistics.median(noop_times))}


# ---- report --------------------------------------------------------------------------------------------------
def breakdown(stats: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(stats.items()) if k != "total")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--existing", type=int, default=5000, help="A records already in the zone")
    parser.add_argument("--new", type=int, default=1000, help="new A records to apply")
    parser.add_argument("--repeat", type=int, default=3, help="no-op runs (the median time is shown)")
    args = parser.parse_args()
    if not FLEETDNS.exists():
        sys.exit(f"{FLEETDNS} not found: run `make venv` and start this with .venv/bin/python")
    with tempfile.TemporaryDirectory(prefix="fleetdns-cf-bench-") as tmp:
        work = Path(tmp)
        ours = bench_fleetdns(work, args.existing, args.new, args.repeat)
        peer = bench_octodns(work, args.existing, args.new, args.repeat)
    print(
        f"\nCloudflare: {args.new:,} new A records into a zone holding {args.existing:,} "
        "(emulator on loopback, HTTPS; wall time of the whole command)\n"
    )
    header = f"{'step':<10} {'fleetdns':>24} {'octodns-cloudflare 1.2.0':>28} {'requests ratio':>16}"
    print(header)
    print("-" * len(header))
    ok = True
    for step, label in (("apply", "apply"), ("noop", "no-op plan")):
        (our_stats, our_time), (peer_stats, peer_time) = ours[step], peer[step]
        ratio = peer_stats["total"] / our_stats["total"]
        print(
            f"{label:<10} {our_stats['total']:>7} req {our_time:>8.2f} s {peer_stats['total']:>11} req "
            f"{peer_time:>10.2f} s {ratio:>15.0f}x"
        )
        if step == "apply":
            ok &= our_stats["total"] <= TARGET_REQUESTS and ratio >= TARGET_RATIO
    print()
    for tool, result in (("fleetdns", ours), ("octodns-cloudflare", peer)):
        for step in ("apply", "noop"):
            print(f"  {tool} {step}: {breakdown(result[step][0])}")
    apply_ours, apply_peer = ours["apply"][0]["total"], peer["apply"][0]["total"]
    print(
        f"\ntargets: apply <= {TARGET_REQUESTS} requests ({apply_ours}) and >= {TARGET_RATIO}x fewer than the peer "
        f"({apply_peer / apply_ours:.0f}x): {'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
