"""dns_record's main(): argument handling, check and diff mode, results, errors, no secret in output."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import yaml
from ansible_collections.fleetdns.ddns.plugins.modules import dns_record
from ansible_collections.fleetdns.ddns.plugins.modules.dns_record import main

SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I="


def files(tmp_path: Path) -> dict:
    (tmp_path / "zones").mkdir(exist_ok=True)
    return {"type": "zonefile", "directory": "zones"}


def zone_text(tmp_path: Path) -> str:
    return (tmp_path / "zones" / "example.test.zone").read_text()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_single_record_set_check_mode_then_apply_then_idempotent(tmp_path, run_module) -> None:
    args = {
        "provider": files(tmp_path),
        "base_dir": str(tmp_path),
        "zone": "Example.Test",
        "name": "www",
        "type": "a",
        "value": "192.0.2.10",
        "ttl": 300,
        "owner": "fleet-main",
    }
    checked = run_module(main, args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert not (tmp_path / "zones" / "example.test.zone").exists()
    assert checked["diff"] == [
        {
            "before_header": "www.example.test. A",
            "after_header": "www.example.test. A",
            "before": "",
            "after": "www.example.test. 300 IN A 192.0.2.10\n; owned by fleetdns owner 'fleet-main'\n",
        }
    ]
    applied = run_module(main, args, diff=True)
    assert applied["changed"] is True and applied["zone"] == "example.test."
    assert applied["changes"] == [
        {
            "action": "create",
            "name": "www.example.test.",
            "type": "A",
            "before": None,
            "after": {"ttl": 300, "values": ["192.0.2.10"]},
            "owned_before": False,
            "owned_after": True,
        }
    ]
    assert "www\t300\tIN\tA\t192.0.2.10" in zone_text(tmp_path)
    again = run_module(main, args, diff=True)
    assert again["changed"] is False and again["changes"] == [] and again["diff"] == []
    without_diff = run_module(main, args)
    assert "diff" not in without_diff


def test_records_list_with_keep_and_absent(tmp_path, run_module) -> None:
    base = {"provider": files(tmp_path), "base_dir": str(tmp_path), "zone": "example.test"}
    records = [
        {"name": "@", "type": "MX", "value": ["10 mail", "20 backup"]},
        {"name": "mail", "type": "A", "values": ["192.0.2.25"], "ttl": 3600},
        {"name": "@", "type": "TXT", "value": "v=spf1 mx -all"},
    ]
    first = run_module(main, dict(base, records=records, ttl=300))
    assert [(c["action"], c["name"], c["type"]) for c in first["changes"]] == [
        ("create", "example.test.", "MX"),
        ("create", "example.test.", "TXT"),
        ("create", "mail.example.test.", "A"),
    ]
    kept = run_module(main, dict(base, name="@", type="TXT", value="verify=abc", on_existing="keep"), diff=True)
    assert kept["changes"][0]["after"]["values"] == ['"v=spf1 mx -all"', '"verify=abc"']
    assert '"v=spf1 mx -all"' in kept["diff"][0]["before"] and '"verify=abc"' in kept["diff"][0]["after"]
    removed = run_module(main, dict(base, name="@", type="TXT", value="verify=abc", state="absent"))
    assert removed["changes"][0]["after"]["values"] == ['"v=spf1 mx -all"']
    assert '"verify=abc"' not in zone_text(tmp_path)
    # the list again, without the TXT, with prune: only the TXT goes
    pruned = run_module(main, dict(base, records=records[:2], ttl=300, prune=True))
    assert [(c["action"], c["type"]) for c in pruned["changes"]] == [("delete", "TXT")]


def test_bad_arguments_fail_with_one_clear_message(tmp_path, run_module) -> None:
    provider = dict(files(tmp_path), directroy="x")
    result = run_module(main, {"provider": provider, "zone": "example.test", "name": "www", "type": "A", "value": "1"})
    assert result["failed"] is True
    # Ansible refuses keys no provider knows; keys of another provider type are refused by fleetdns
    assert "directroy" in result["msg"]
    result = run_module(
        main,
        {
            "provider": dict(files(tmp_path), tsig_key_name="k"),
            "zone": "example.test",
            "name": "w",
            "type": "A",
            "value": "192.0.2.1",
        },
    )
    assert result["msg"] == (
        "provider.tsig_key_name: unknown key 'tsig_key_name' (hint: zonefile provider keys are: type, directory, "
        "filename, nameservers, soa_email, soa_refresh, soa_retry, soa_expire, soa_minimum)"
    )
    result = run_module(
        main, {"provider": files(tmp_path), "zone": "example.test", "name": "www", "type": "A", "value": "192.0.2.1.5"}
    )
    assert result["msg"].startswith("value: '192.0.2.1.5' is not an IPv4 address")
    result = run_module(
        main, {"provider": files(tmp_path), "zone": "example.test", "records": [], "name": "www", "type": "A"}
    )
    assert "mutually exclusive" in result["msg"]


def test_provider_failures_are_one_line_and_never_show_the_secret(tmp_path, run_module) -> None:
    provider = {
        "type": "rfc2136",
        "server": "127.0.0.1",
        "port": closed_port(),
        "tsig_key_name": "fleet-admin",
        "tsig_secret": SECRET,
        "timeout": 2,
    }
    result = run_module(
        main, {"provider": provider, "zone": "example.test", "name": "www", "type": "A", "value": "192.0.2.1"}
    )
    assert result["failed"] is True
    assert "\n" not in result["msg"] and "127.0.0.1" in result["msg"]
    dumped = json.dumps(result)
    assert SECRET not in dumped
    assert result["invocation"]["module_args"]["provider"]["tsig_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    # the other provider options stay readable
    assert result["invocation"]["module_args"]["provider"]["server"] == "127.0.0.1"


def test_missing_library_uses_ansibles_message(tmp_path, run_module, monkeypatch) -> None:
    monkeypatch.setattr(dns_record, "missing_libraries", lambda provider: ["requests"])
    result = run_module(
        main,
        {"provider": {"type": "cloudflare", "api_token": "a-long-api-token"}, "zone": "example.test", "records": []},
    )
    assert result["failed"] is True
    assert "Failed to import the required Python library (requests)" in result["msg"]


def test_conflicts_fail_and_change_nothing(tmp_path, run_module) -> None:
    provider = files(tmp_path)
    (tmp_path / "zones" / "example.test.zone").write_text(
        "$ORIGIN example.test.\n@ 300 IN SOA ns hostmaster 1 3600 900 1209600 300\n@ 300 IN NS ns\n"
        "ns 300 IN A 192.0.2.53\nwww 300 IN A 192.0.2.1\n"
    )
    before = zone_text(tmp_path)
    args = {"provider": provider, "base_dir": str(tmp_path), "zone": "example.test", "name": "www", "type": "A"}
    result = run_module(main, dict(args, value="192.0.2.2"))
    assert result["failed"] is True
    assert result["msg"].startswith("zone example.test.: www A exists with other values (ttl 300: 192.0.2.1)")
    assert zone_text(tmp_path) == before
    noted = run_module(main, dict(args, value="192.0.2.1"))
    assert noted["changed"] is False
    assert noted["notes"] == ["www A exists as wanted but is not owned; left as is (adopt: true takes ownership)"]
    adopted = run_module(main, dict(args, value="192.0.2.1", adopt=True))
    assert [c["action"] for c in adopted["changes"]] == ["adopt"]
    assert 'a.www._fleetdns\t3600\tIN\tTXT\t"fleetdns-owner=fleetdns"' in zone_text(tmp_path)


def test_argument_spec_matches_the_documentation() -> None:
    """Every option is documented with its type (ansible-test validate-modules checks the rest)."""
    doc = yaml.safe_load(dns_record.DOCUMENTATION)
    spec = dns_record.argument_spec()
    documented = set(doc["options"]) | {"provider"}  # provider comes from the doc fragment
    assert set(spec) == documented
    for name, option in doc["options"].items():
        assert option["type"] == spec[name]["type"], name
    assert set(doc["options"]["records"]["suboptions"]) == set(spec["records"]["options"])


def test_module_is_in_the_dns_action_group() -> None:
    runtime = Path(dns_record.__file__).resolve().parents[2] / "meta" / "runtime.yml"
    assert "dns_record" in yaml.safe_load(runtime.read_text())["action_groups"]["dns"]
