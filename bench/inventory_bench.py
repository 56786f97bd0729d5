"""Validating a big fleet: `fleetdns validate` against `ansible-inventory --list`, and validate + no-op
plan of a device fleet in zone files against octoDNS doing the same.

    .venv/bin/python bench/inventory_bench.py            # --hosts 1000,10000,100000 --peer-max 10000
    .venv/bin/python bench/inventory_bench.py --suite octodns --devices 10000

For each size, tests/unit/fleetdns/bigfleet.py writes an inventory of that many device hosts (each
owning one name) plus 100 static records, and both commands read it from start to exit:
`fleetdns validate -i INV` (load, template and validate everything) and `ansible-inventory -i INV
--list` (ansible-core of the project's venv: parse the inventory and print every host's variables).
The peer grows faster than linearly, so it runs only up to --peer-max hosts; fleetdns runs at every
size and the table shows its time per 1,000 hosts, which stays flat when validation is linear.

`--suite octodns`: bigfleet.device_fleet writes --devices hosts, one name each, in a zone kept in
zone files (a `zonefile` provider); `fleetdns apply` writes the zone once, then each run is timed
from start to exit: `fleetdns validate -i INV` and the no-op `fleetdns plan -i INV
--detailed-exitcode` (must exit 0). The peer is octoDNS 1.22 (its own venv, bench/.venv-octodns)
on the equivalent config: a YamlProvider source with one A record per device (octoDNS has no device
names, so each gets an address) plus the zone's ns1, and a YamlProvider target already holding the
same records (octoDNS's own files on disk, as zone files are fleetdns's): `octodns-validate
--config-file CFG` and the dry-run `octodns-sync --config-file CFG`, which must plan no change.
Medians of --repeat runs each; the tools take turns.
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

from common import address, ensure_venv, run_timed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "unit" / "fleetdns"))

from bigfleet import big_inventory, device_fleet  # noqa: E402

BIN = Path(sys.executable).parent
PEER_VENV = ROOT / "bench" / ".venv-octodns"
PEER_PACKAGES = ["octodns==1.22.0", "octodns-bind==1.1.0"]  # the same venv as bind_bench.py
ZONE = "fleet.test"
VALIDATE_TARGET = 1.0  # seconds, wall, for --devices 10000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["ansible", "octodns"], default="ansible", help="which comparison")
    parser.add_argument("--hosts", default="1000,10000,100000", help="comma-separated fleet sizes")
    parser.add_argument("--peer-max", type=int, default=10_000, help="largest size the peer runs at")
    parser.add_argument("--devices", type=int, default=10_000, help="--suite octodns: hosts in the fleet")
    parser.add_argument("--repeat", type=int, default=3, help="fleetdns runs per size (median shown)")
    args = parser.parse_args()
    if args.suite == "octodns":
        octodns_suite(args.devices, args.repeat)
        return
    sizes = [int(size) for size in args.hosts.split(",")]
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1"}
    print(
        f"{'hosts':>8}  {'fleetdns validate':>18}  {'per 1k hosts':>12}  {'ansible-inventory --list':>24}  {'ratio':>6}"
    )
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            inventory = Path(directory) / f"hosts-{size}.yml"
            inventory.write_text(big_inventory(100, size))
            ours = statistics.median(
                run_timed([str(BIN / "fleetdns"), "validate", "-i", str(inventory)], env, 0, "fleetdns validate")
                for _run in range(args.repeat)
            )
            peer_text, ratio_text = "not run", "-"
            if size <= args.peer_max:
                argv = [str(BIN / "ansible-inventory"), "-i", str(inventory), "--list"]
                peer = run_timed(argv, env, 0, "ansible-inventory --list")
                peer_text, ratio_text = f"{peer:.2f} s", f"{peer / ours:.1f}x"
            print(
                f"{size:>8}  {ours:>16.2f} s  {ours / size * 1000:>10.3f} s  {peer_text:>24}  {ratio_text:>6}",
                flush=True,
            )


def octodns_config(work: Path, devices: int) -> Path:
    """The octoDNS equivalent of device_fleet(devices): source and target YAML holding the same zone."""
    text = "---\n" + "".join(f"dev{i:05d}:\n  type: A\n  value: {address(i)}\n" for i in range(devices))
    text += "ns1:\n  type: A\n  value: 192.0.2.53\n"
    for side in ("source", "target"):
        (work / side).mkdir()
        (work / side / f"{ZONE}.yaml").write_text(text)
    config = work / "octodns.yaml"
    config.write_text(
        "---\n"
        "providers:\n"
        "  config:\n"
        "    class: octodns.provider.yaml.YamlProvider\n"
        f"    directory: {work / 'source'}\n"
        "    default_ttl: 3600\n"
        "    enforce_order: false\n"
        "  files:\n"
        "    class: octodns.provider.yaml.YamlProvider\n"
        f"    directory: {work / 'target'}\n"
        "    default_ttl: 3600\n"
        "    enforce_order: false\n"
        "zones:\n"
        f"  {ZONE}.:\n"
        "    sources: [config]\n"
        "    targets: [files]\n"
    )
    return config


def run_measured(argv: list[str], env: dict[str, str], what: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the command and its children) of one run,
    which must exit 0; CPU time is what a loaded machine hardly changes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = run_timed(argv, env, 0, what)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def octodns_suite(devices: int, repeat: int) -> None:
    peer_bin = ensure_venv(PEER_VENV, PEER_PACKAGES)
    env = {**os.environ, "NO_COLOR": "1"}
    fleetdns = str(BIN / "fleetdns")
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        inventory = work / "hosts.yml"
        inventory.write_text(device_fleet(devices, ZONE))
        run_timed([fleetdns, "apply", "-i", str(inventory), "--yes"], env, 0, "fleetdns apply")
        config = octodns_config(work, devices)
        steps = [
            (
                "validate",
                [fleetdns, "validate", "-i", str(inventory)],
                [str(peer_bin / "octodns-validate"), "--config-file", str(config)],
            ),
            (
                "no-op plan",
                [fleetdns, "plan", "-i", str(inventory), "--detailed-exitcode"],
                [str(peer_bin / "octodns-sync"), "--config-file", str(config)],
            ),
        ]
        load_before = os.getloadavg()
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _run in range(repeat):
            for step, ours, peer in steps:  # the tools take turns
                times.setdefault((step, "fleetdns"), []).append(run_measured(ours, env, f"fleetdns {step}"))
                times.setdefault((step, "octodns"), []).append(run_measured(peer, env, f"octoDNS {step}"))
        load_after = os.getloadavg()
        sync = subprocess.run(
            [str(peer_bin / "octodns-sync"), "--config-file", str(config)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if "No changes were planned" not in sync.stdout + sync.stderr:
            sys.exit(f"octodns-sync planned changes on the equivalent config:\n{sync.stdout[-2000:]}")
    print(f"{devices:,} hosts, one name each, zone files; octoDNS 1.22 (YamlProvider source and target) as peer")
    print(f"medians of {repeat} runs of the whole command: wall time, and CPU time (user + system)\n")
    print(
        f"{'step':<12} {'fleetdns':>9} {'octoDNS':>9} {'ratio':>7}   "
        f"{'fleetdns cpu':>12} {'octoDNS cpu':>11} {'ratio':>6}"
    )
    for step, _ours, _peer in steps:
        ours = [statistics.median(t[i] for t in times[(step, "fleetdns")]) for i in (0, 1)]
        peer = [statistics.median(t[i] for t in times[(step, "octodns")]) for i in (0, 1)]
        print(
            f"{step:<12} {ours[0]:>7.2f} s {peer[0]:>7.2f} s {peer[0] / ours[0]:>6.1f}x   "
            f"{ours[1]:>10.2f} s {peer[1]:>9.2f} s {peer[1] / ours[1]:>5.1f}x"
        )
    cores = os.cpu_count() or 1
    print(
        f"\nload average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, "
        f"after: {' '.join(f'{x:.2f}' for x in load_after)} ({cores} cores)"
    )
    validate = statistics.median(t[0] for t in times[("validate", "fleetdns")])
    verdict = "met" if validate < VALIDATE_TARGET else "NOT met"
    print(f"target: validate of {devices:,} hosts under {VALIDATE_TARGET:.0f} s wall ({validate:.2f} s): {verdict}")


if __name__ == "__main__":
    main()
