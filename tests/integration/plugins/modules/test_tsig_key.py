"""tsig_key reading back a key file made by BIND's tsig-keygen: needs bind9, so it lives here
rather than in tests/unit (run_module comes from the unit tests' conftest, see conftest.py here)."""

from __future__ import annotations

import subprocess

from ansible_collections.fleetdns.ddns.plugins.modules.tsig_key import main


def test_reads_back_a_key_made_by_tsig_keygen(tmp_path, run_module) -> None:
    path = tmp_path / "admin.key"
    path.write_text(
        subprocess.run(
            ["tsig-keygen", "-a", "hmac-sha512", "Fleet-Admin"], capture_output=True, text=True, check=True
        ).stdout
    )
    path.chmod(0o600)
    before = path.read_text()
    result = run_module(main, {"name": "fleet-admin.", "algorithm": "hmac-sha512", "path": str(path)})
    assert result["changed"] is False
    assert result["key_name"] == "Fleet-Admin"
    assert path.read_text() == before
