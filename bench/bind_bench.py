#!/usr/bin/env python
"""BIND benchmark: wall time of fleetdns against octoDNS + octodns-bind, same named, same 10,000 A records.

    .venv/bin/python bench/bind_bench.py [--records 10000] [--changed 100] [--repeat 3]

Steps, each one run of the tool's own command line, timed from start to exit (start-up, inventory or
config loading, zone transfer, planning, output and updates included: what a user waits for):

fleetdns runs twice, each on zones of its own: with `ownership: zone` (the inventory owns the whole zone,
as octoDNS owns its zones: the like-for-like comparison, on which the targets are checked) and with the
default `ownership: markers` (a `_fleetdns` TXT marker per record set, so that records fleetdns did not
create are never touched: twice the records for named to write), shown beside it.

1. create: an empty zone (SOA, NS, ns1 A) receives `--records` A records
   (fleetdns `apply --yes`; `octodns-sync --doit`);
2. no-op: the same again, which must change nothing (fleetdns `plan --detailed-exitcode`, exit 0;
   an `octodns-sync` dry run); the zone's SOA serial must not move;
3. change: `--changed` of the records get a new address (fleetdns `apply --yes`; `octodns-sync --doit`).

One named (tests/lab/bind.py: 127.0.0.1, a free port, TSIG key fleet-admin, zonesub ANY) serves every
zone. Each repetition gives each tool a fresh zone with the same SOA, NS and ns1 A (bench-zN.test. and
bench-mN.test. for fleetdns, bench-oN.test. for octoDNS) and runs the three steps on it, the tools
taking turns so that background load hits all alike. After every step every zone is transferred
(AXFR with the admin key) and its data records compared with what was asked for: fleetdns's _fleetdns
ownership markers and the SOA are left out, everything else must be identical (and a zone owned whole
must hold no marker).

The peer, octoDNS 1.22 + octodns-bind 1.1 from PyPI, lives in its own venv (bench/.venv-octodns,
created here on first use, never in the project's venv). Its source is a YamlProvider zone file
holding the same records plus the zone's own `ns1 A` (octoDNS deletes every record its source does
not list); its target is `octodns_bind.Rfc2136Provider` with the same TSIG key. It runs with
`--quiet` (it does not print its plan; fleetdns prints its own), which can only make it faster.
Targets: fleetdns at least 5x faster on each step, and the no-op plan of 10,000 records
under 1.5 s wall (checked for fleetdns with ownership: zone, the same job octoDNS does).

Besides wall time it prints CPU seconds per step: the tool's process (user + system) plus what named
spent meanwhile (from /proc), a figure that load from other processes on a shared machine hardly moves.
This checkout's modules are byte-compiled first, as `pip install` would (a development install run
with PYTHONDONTWRITEBYTECODE would otherwise recompile every edited module on every run).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import dns.query
import dns.rdatatype
import dns.zone

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from common import address, ensure_venv, run_timed  # noqa: E402
from lab.bind import BindLab  # noqa: E402

PEER_VENV = ROOT / "bench" / ".venv-octodns"
PEER_PACKAGES = ["octodns==1.22.0", "octodns-bind==1.1.0"]
PEER_LABEL = "octoDNS 1.22 + octodns-bind 1.1"
FLEETDNS = Path(sys.executable).parent / "fleetdns"
OWNER = "fleet-bench"
TTL = 300
TARGET_RATIO = 5.0
TARGET_NOOP = 1.5
STEPS = (("create", "create"), ("noop", "no-op plan"), ("change", "change"))

Records = dict[str, str]  # relative name -> IPv4 address


def records_for(count: int) -> Records:
    return {f"h{i:05d}": address(i) for i in range(count)}


def changed(records: Records, count: int) -> Records:
    """`count` records spread over the zone get an address outside the original range."""
    names = sorted(records)
    stride = max(1, len(names) // count)
    result = dict(records)
    for n, name in enumerate(names[::stride][:count]):
        result[name] = f"172.16.{n // 250}.{n % 250 + 1}"
    return result


# ---- running the tools -----------------------------------------------------------------------------------------
class Sample(NamedTuple):
    wall: float  # seconds from start to exit of the command
    cpu: float  # user + system seconds of the command's process
    server: float  # user + system seconds named spent meanwhile


def named_cpu(lab: BindLab) -> float:
    """CPU seconds named has used so far (/proc/PID/stat utime + stime)."""
    pid = Path(lab.directory, "named.pid").read_text().strip()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(lab: BindLab, argv: list[str], env: dict[str, str], expect: int, what: str) -> Sample:
    server, children = named_cpu(lab), resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed = run_timed(argv, env, expect, what)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime
    return Sample(elapsed, cpu, named_cpu(lab) - server)


class Fleetdns:
    """The real `fleetdns` CLI of this checkout, an rfc2136 provider with the lab's admin key, the zone
    owned whole (`ownership: zone`, as octoDNS owns its zones) or record by record (markers)."""

    def __init__(self, lab: BindLab, work: Path, ownership: str) -> None:
        self.lab, self.work, self.ownership = lab, work, ownership
        self.label = "fleetdns" if ownership == "zone" else "fleetdns markers"
        self.prefix = "z" if ownership == "zone" else "m"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FLEETDNS_")}
        self.env.update(BENCH_TSIG=lab.keys["admin"].secret, NO_COLOR="1")

    def write(self, zone: str, records: Records) -> Path:
        key = self.lab.keys["admin"]
        lines = [
            "all:",
            "  vars:",
            f"    fleetdns_owner: {OWNER}",
            "    fleetdns_providers:",
            "      lab:",
            "        type: rfc2136",
            f"        server: {self.lab.host}",
            f"        port: {self.lab.port}",
            f"        tsig_key_name: {key.name}",
            f"        tsig_algorithm: {key.algorithm}",
            "        tsig_secret: \"{{ lookup('env', 'BENCH_TSIG') }}\"",
            "        timeout: 60",
            "    fleetdns_zones:",
            f"      {zone.rstrip('.')}:",
            "        provider: lab",
            f"        default_ttl: {TTL}",
            f"        ownership: {self.ownership}",
            "        records:",
        ]
        if self.ownership == "zone":  # like octoDNS, it must list the zone's own NS target
            records = {**records, "ns1": "127.0.0.1"}
        lines += [f"          - {{name: {name}, type: A, value: {value}}}" for name, value in records.items()]
        path = self.work / f"hosts-{zone}yml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def apply(self, config: Path) -> Sample:
        return timed(self.lab, [str(FLEETDNS), "apply", "-i", str(config), "--yes"], self.env, 0, "fleetdns apply")

    def noop(self, config: Path) -> Sample:
        argv = [str(FLEETDNS), "plan", "-i", str(config), "--detailed-exitcode"]
        return timed(self.lab, argv, self.env, 0, "fleetdns plan --detailed-exitcode (a no-op must exit 0)")


class Octodns:
    """octodns-sync from the peer venv: YamlProvider source -> octodns_bind.Rfc2136Provider target."""

    label = "octoDNS"
    prefix = "o"

    def __init__(self, lab: BindLab, work: Path) -> None:
        self.lab, self.work = lab, work
        self.sync = ensure_venv(PEER_VENV, PEER_PACKAGES) / "octodns-sync"
        self.env = dict(os.environ, BENCH_TSIG=lab.keys["admin"].secret)

    def write(self, zone: str, records: Records) -> Path:
        directory = self.work / f"octodns-{zone}d"
        directory.mkdir(exist_ok=True)
        body = {**records, "ns1": "127.0.0.1"}  # the zone's own NS target: octoDNS deletes what it is not told
        text = "".join(f"{name}:\n  ttl: {TTL}\n  type: A\n  value: {value}\n" for name, value in sorted(body.items()))
        (directory / f"{zone}yaml").write_text("---\n" + text)
        key = self.lab.keys["admin"]
        config = self.work / f"octodns-{zone}yaml"
        config.write_text(
            "---\n"
            "providers:\n"
            "  config:\n"
            "    class: octodns.provider.yaml.YamlProvider\n"
            f"    directory: {directory}\n"
            f"    default_ttl: {TTL}\n"
            "    enforce_order: false\n"
            "  bind:\n"
            "    class: octodns_bind.Rfc2136Provider\n"
            f"    host: {self.lab.host}\n"
            f"    port: {self.lab.port}\n"
            f"    key_name: {key.name}\n"
            "    key_secret: env/BENCH_TSIG\n"
            f"    key_algorithm: {key.algorithm}\n"
            "    timeout: 60\n"
            "zones:\n"
            f"  {zone}:\n"
            "    sources: [config]\n"
            "    targets: [bind]\n"
        )
        return config

    def apply(self, config: Path) -> Sample:
        argv = [str(self.sync), "--config-file", str(config), "--quiet", "--doit"]
        return timed(self.lab, argv, self.env, 0, "octodns-sync --doit")

    def noop(self, config: Path) -> Sample:
        argv = [str(self.sync), "--config-file", str(config), "--quiet"]
        return timed(self.lab, argv, self.env, 0, "octodns-sync")


def byte_compile() -> None:
    """Compile this checkout's modules as `pip install` does: a development install run with
    PYTHONDONTWRITEBYTECODE would otherwise recompile every edited module on every run."""
    paths = [str(ROOT / "fleetdns"), str(ROOT / "plugins" / "module_utils")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *paths], check=True, stdout=subprocess.DEVNULL)


# ---- checking the zones ---------------------------------------------------------------------------------------
def zone_data(lab: BindLab, zone: str) -> tuple[int, set[tuple[str, str, int, str]], int]:
    """(SOA serial, data records relative to the zone, marker count) by AXFR; SOA and _fleetdns
    markers are left out of the data."""
    xfr = dns.query.xfr(lab.host, zone, port=lab.port, keyring=lab.keyring("admin"), timeout=30, lifetime=120)
    transferred = dns.zone.from_xfr(xfr)
    serial = markers = 0
    data = set()
    for name, ttl, rdata in transferred.iterate_rdatas():
        text = name.to_text()
        if rdata.rdtype == dns.rdatatype.SOA:
            serial = rdata.serial
        elif text == "_fleetdns" or text.endswith("._fleetdns"):
            markers += 1
        else:
            data.add((text, dns.rdatatype.to_text(rdata.rdtype), ttl, rdata.to_text()))
    return serial, data, markers


def expected_data(records: Records) -> set[tuple[str, str, int, str]]:
    base = {("@", "NS", TTL, "ns1"), ("ns1", "A", TTL, "127.0.0.1")}
    return base | {(name, "A", TTL, value) for name, value in records.items()}


def verify(lab: BindLab, zones: dict[str, str], records: Records, step: str) -> dict[str, int]:
    """Every zone holds exactly the asked-for data records (and a zone owned whole no marker);
    returns each zone's SOA serial."""
    want = expected_data(records)
    serials = {}
    for tool, zone in zones.items():
        serial, have, markers = zone_data(lab, zone)
        if have != want:
            missing, extra = sorted(want - have)[:5], sorted(have - want)[:5]
            sys.exit(f"after {step}, {tool}'s zone {zone} differs from the inventory: missing {missing}, extra {extra}")
        if tool != "fleetdns markers" and markers:
            sys.exit(f"after {step}, {tool}'s zone {zone} holds {markers} _fleetdns marker record(s)")
        serials[tool] = serial
    return serials


# ---- the run ---------------------------------------------------------------------------------------------------
def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


Samples = dict[str, dict[str, list[Sample]]]  # tool -> step -> one Sample per run


def run(args: argparse.Namespace) -> tuple[Samples, list[str]]:
    base = records_for(args.records)
    after = changed(base, args.changed)
    assert sum(base[n] != after[n] for n in base) == args.changed
    loads = [load()]
    with tempfile.TemporaryDirectory(prefix="fleetdns-bind-bench-") as tmp, BindLab("bench-f0.test.") as lab:
        work = Path(tmp)
        tools = [Fleetdns(lab, work, "zone"), Fleetdns(lab, work, "markers"), Octodns(lab, work)]
        samples: Samples = {tool.label: {} for tool in tools}
        for rep in range(1, args.repeat + 1):
            zones = {tool.label: f"bench-{tool.prefix}{rep}.test." for tool in tools}
            for zone in zones.values():
                lab.add_zone(zone)
            configs = {t.label: t.write(zones[t.label], base) for t in tools}
            for tool in tools:
                samples[tool.label].setdefault("create", []).append(tool.apply(configs[tool.label]))
            serials = verify(lab, zones, base, "create")
            for tool in tools:
                samples[tool.label].setdefault("noop", []).append(tool.noop(configs[tool.label]))
            if verify(lab, zones, base, "no-op") != serials:
                sys.exit("a no-op run changed a zone (its SOA serial moved)")
            configs = {t.label: t.write(zones[t.label], after) for t in tools}
            for tool in tools:
                samples[tool.label].setdefault("change", []).append(tool.apply(configs[tool.label]))
            verify(lab, zones, after, "change")
            walls = "; ".join(
                f"{label} " + " ".join(f"{samples[label][s][-1].wall:.2f}" for s, _label in STEPS) for label in samples
            )
            print(f"  run {rep}/{args.repeat}: {walls} s (load {load()})", flush=True)
        loads.append(load())
    return samples, loads


def median(samples: list[Sample], part: str) -> float:
    if part == "total cpu":
        return statistics.median(s.cpu + s.server for s in samples)
    return statistics.median(getattr(s, part) for s in samples)


def cpu_text(samples: list[Sample]) -> str:
    return f"{median(samples, 'cpu'):.2f}+{median(samples, 'server'):.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--records", type=int, default=10000, help="A records in the zone")
    parser.add_argument("--changed", type=int, default=100, help="records whose address the change step moves")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each step on fresh zones (medians shown)")
    args = parser.parse_args()
    if not FLEETDNS.exists():
        sys.exit(f"{FLEETDNS} not found: run `make venv` and start this with .venv/bin/python")
    if not 0 < args.changed <= args.records:
        sys.exit("--changed must be between 1 and --records")
    ensure_venv(PEER_VENV, PEER_PACKAGES)
    byte_compile()
    print(
        f"BIND: {args.records:,} A records, {args.repeat} runs per step; "
        "per run: create no-op change (wall s) of each tool"
    )
    samples, loads = run(args)
    print(
        f"\n{args.records:,} A records, change of {args.changed}; one named on 127.0.0.1, TSIG hmac-sha256; "
        f"medians of {args.repeat} runs\n{PEER_LABEL} as peer; fleetdns = ownership: zone (the zone owned whole, "
        "as octoDNS owns it);\nmarkers = fleetdns's default ownership: markers (a TXT marker per record set); "
        "cpu = the command's process + named meanwhile\n"
    )
    header = (
        f"{'step':<11} {'fleetdns':>9} {'octoDNS':>9} {'ratio':>6}   {'markers':>9} {'ratio':>6}   "
        f"{'fleetdns cpu':>12} {'markers cpu':>12} {'octoDNS cpu':>12}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for step, label in STEPS:
        ours, marked, peer = (samples[t][step] for t in ("fleetdns", "fleetdns markers", "octoDNS"))
        ratio = median(peer, "wall") / median(ours, "wall")
        marked_ratio = median(peer, "wall") / median(marked, "wall")
        ok &= ratio >= TARGET_RATIO
        print(
            f"{label:<11} {median(ours, 'wall'):>7.2f} s {median(peer, 'wall'):>7.2f} s {ratio:>5.1f}x   "
            f"{median(marked, 'wall'):>7.2f} s {marked_ratio:>5.1f}x   "
            f"{cpu_text(ours):>10} s {cpu_text(marked):>10} s {cpu_text(peer):>10} s"
        )
    noop = median(samples["fleetdns"]["noop"], "wall")
    noop_ok = noop < TARGET_NOOP
    print(
        f"\nload average (1/5/15 min) before: {loads[0]}, after: {loads[1]} ({os.cpu_count()} cores)\n"
        f"targets: fleetdns >= {TARGET_RATIO:.0f}x faster on each step (wall): {'met' if ok else 'NOT met'}; "
        f"{args.records:,}-record no-op plan {noop:.2f} s < {TARGET_NOOP} s: {'met' if noop_ok else 'NOT met'}"
    )
    return 0 if ok and noop_ok else 1


if __name__ == "__main__":
    sys.exit(main())
