from __future__ import annotations

import grp
import json
import os
import stat

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import read_key_file
from ansible_collections.fleetdns.ddns.plugins.modules.tsig_key import main

NAMED_CONF = 'options {\n\tdirectory "/var/cache/bind";\n};\n'


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_creates_a_private_key_file_then_keeps_it(tmp_path, run_module) -> None:
    path = tmp_path / "host1.key"
    first = run_module(main, {"name": "host1.example.test", "path": str(path)})
    assert first["changed"] is True
    assert (first["key_name"], first["algorithm"], first["path"]) == ("host1.example.test", "hmac-sha256", str(path))
    assert mode_of(path) == 0o600
    on_disk = read_key_file(str(path))
    assert on_disk is not None and on_disk.secret == first["secret"]
    second = run_module(main, {"name": "host1.example.test", "path": str(path)})
    assert second["changed"] is False
    assert second["secret"] == first["secret"]


def test_another_algorithm_makes_a_new_key(tmp_path, run_module) -> None:
    path = tmp_path / "k.key"
    first = run_module(main, {"name": "k", "path": str(path)})
    second = run_module(main, {"name": "k", "algorithm": "hmac-sha512", "path": str(path)})
    assert second["changed"] is True and second["algorithm"] == "hmac-sha512"
    assert second["secret"] != first["secret"]
    assert read_key_file(str(path)).algorithm == "hmac-sha512"


def test_a_key_of_another_name_is_not_replaced_without_force(tmp_path, run_module) -> None:
    path = tmp_path / "k.key"
    run_module(main, {"name": "host1", "path": str(path)})
    before = path.read_text()
    failed = run_module(main, {"name": "host2", "path": str(path)})
    assert failed["failed"] is True
    assert "holds the key 'host1', not 'host2'" in failed["msg"] and "force" in failed["msg"]
    assert path.read_text() == before
    replaced = run_module(main, {"name": "host2", "path": str(path), "force": True})
    assert replaced["changed"] is True and read_key_file(str(path)).name == "host2"


def test_force_rotates_the_secret(tmp_path, run_module) -> None:
    path = tmp_path / "k.key"
    first = run_module(main, {"name": "k", "path": str(path)})
    rotated = run_module(main, {"name": "k", "path": str(path), "regenerate": True})
    assert rotated["changed"] is True and rotated["secret"] != first["secret"]
    assert read_key_file(str(path)).secret == rotated["secret"]


def test_check_mode_changes_nothing_and_invents_no_secret(tmp_path, run_module) -> None:
    path = tmp_path / "k.key"
    predicted = run_module(main, {"name": "k", "path": str(path)}, check_mode=True)
    assert predicted["changed"] is True and "secret" not in predicted
    assert not path.exists()
    made = run_module(main, {"name": "k", "path": str(path)})
    checked = run_module(main, {"name": "k", "path": str(path)}, check_mode=True)
    assert checked["changed"] is False and checked["secret"] == made["secret"]
    rotate = run_module(main, {"name": "k", "path": str(path), "force": True}, check_mode=True)
    assert rotate["changed"] is True
    assert read_key_file(str(path)).secret == made["secret"]
    chmod = run_module(main, {"name": "k", "path": str(path), "mode": "0640"}, check_mode=True)
    assert chmod["changed"] is True and mode_of(path) == 0o600


def test_diff_shows_the_change_but_never_the_secret(tmp_path, run_module) -> None:
    path = tmp_path / "k.key"
    made = run_module(main, {"name": "k", "path": str(path)}, diff=True)
    [content] = made["diff"]
    assert content["before"] == ""
    assert 'key "k" {' in content["after"] and "algorithm hmac-sha256;" in content["after"]
    rotated = run_module(main, {"name": "k", "path": str(path), "force": True, "mode": "0640"}, diff=True)
    text = json.dumps(rotated["diff"])
    assert made["secret"] not in text and rotated["secret"] not in text
    content, attributes = rotated["diff"]
    assert content["before"] != content["after"]
    assert (attributes["before"]["mode"], attributes["after"]["mode"]) == ("0600", "0640")
    plain = run_module(main, {"name": "k", "path": str(path), "mode": "0640"})
    assert "diff" not in plain and plain["changed"] is False


def test_mode_and_group_like_named_wants_them(tmp_path, run_module) -> None:
    path = tmp_path / "k.key"
    group = grp.getgrgid(os.getgid()).gr_name
    made = run_module(main, {"name": "k", "path": str(path), "mode": "0640", "group": group})
    assert made["changed"] is True and mode_of(path) == 0o640 and os.stat(path).st_gid == os.getgid()
    again = run_module(main, {"name": "k", "path": str(path), "mode": "0640", "group": group})
    assert again["changed"] is False
    tightened = run_module(main, {"name": "k", "path": str(path)})
    assert tightened["changed"] is True and mode_of(path) == 0o600
    assert tightened["secret"] == made["secret"]
    rotated = run_module(main, {"name": "k", "path": str(path), "mode": "u=rw,g=r", "force": True})
    assert mode_of(path) == 0o640 and rotated["secret"] != made["secret"]


def test_a_file_that_is_not_a_key_is_left_alone_without_force(tmp_path, run_module) -> None:
    path = tmp_path / "named.conf"
    path.write_text(NAMED_CONF)
    for state in ("present", "absent"):
        failed = run_module(main, {"name": "k", "path": str(path), "state": state})
        assert failed["failed"] is True
        assert "is not a TSIG key file: line 1: found 'options'" in failed["msg"]
        assert "Nothing was changed" in failed["msg"]
        assert path.read_text() == NAMED_CONF
    replaced = run_module(main, {"name": "k", "path": str(path), "force": True})
    assert replaced["changed"] is True and read_key_file(str(path)).name == "k"


def test_absent_removes_the_key_file(tmp_path, run_module) -> None:
    path = tmp_path / "k.key"
    run_module(main, {"name": "k", "path": str(path)})
    predicted = run_module(main, {"name": "k", "path": str(path), "state": "absent"}, check_mode=True, diff=True)
    assert predicted["changed"] is True and path.exists()
    assert predicted["diff"][0]["after"] == "" and 'key "k"' in predicted["diff"][0]["before"]
    wrong = run_module(main, {"name": "other", "path": str(path), "state": "absent"})
    assert wrong["failed"] is True and "holds the key 'k', not 'other'" in wrong["msg"] and path.exists()
    removed = run_module(main, {"path": str(path), "state": "absent"})
    assert removed["changed"] is True and not path.exists()
    assert "secret" not in removed
    again = run_module(main, {"name": "k", "path": str(path), "state": "absent"})
    assert again["changed"] is False


def test_md5_works_with_a_warning(tmp_path, run_module) -> None:
    result = run_module(main, {"name": "old-router", "algorithm": "hmac-md5", "path": str(tmp_path / "k.key")})
    assert result["algorithm"] == "hmac-md5"
    assert "hmac-md5 is weak" in json.dumps(result["warnings"])  # a list of texts or of event dicts


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "bad name"}, "'bad name' is not a valid TSIG key name"),
        ({"name": "k", "algorithm": "hmac-sha3"}, "value of algorithm must be one of"),
        ({}, "state is present but all of the following are missing: name"),
        ({"name": "k", "path": "/nonexistent-dir/k.key"}, "cannot write the key file /nonexistent-dir/k.key"),
    ],
)
def test_bad_arguments_fail_with_one_clear_message(tmp_path, run_module, args: dict, message: str) -> None:
    failed = run_module(main, {"path": str(tmp_path / "k.key"), **args})
    assert failed["failed"] is True
    assert message in failed["msg"]
    assert "Traceback" not in json.dumps(failed)
