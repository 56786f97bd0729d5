"""Validating a big fleet: `fleetdns validate` against `ansible-inventory --list` on the same inventory.

    .venv/bin/python bench/inventory_bench.py            # --hosts 1000,10000,100000 --peer-max 10000

For each size, tests/unit/fleetdns/bigfleet.py writes an inventory of that many device hosts (each
owning one name) plus 100 static records, and both commands read it from start to exit:
`fleetdns validate -i INV` (load, template and validate everything) and `ansible-inventory -i INV
--list` (ansible-core of the project's venv: parse the inventory and print every host's variables).
The peer grows faster than linearly, so it runs only up to --peer-max hosts; fleetdns runs at every
size and the table shows its time per 1,000 hosts, which stays flat when validation is linear.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import run_timed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "unit" / "fleetdns"))

from bigfleet import big_inventory  # noqa: E402

BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1000,10000,100000", help="comma-separated fleet sizes")
    parser.add_argument("--peer-max", type=int, default=10_000, help="largest size the peer runs at")
    parser.add_argument("--repeat", type=int, default=3, help="fleetdns runs per size (median shown)")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
