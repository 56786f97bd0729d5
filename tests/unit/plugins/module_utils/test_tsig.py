from __future__ import annotations

import base64
import os
import stat

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import (
    ALGORITHMS,
    TsigKey,
    TsigKeyError,
    check_key_name,
    generate_key,
    normalize_algorithm,
    parse_keys,
    read_key_file,
    write_key_file,
)

SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_generated_secret_is_as_long_as_the_digest_and_random(algorithm: str) -> None:
    first, second = generate_key("k", algorithm), generate_key("k", algorithm)
    assert len(base64.b64decode(first.secret, validate=True)) == ALGORITHMS[algorithm]
    assert first.secret != second.secret


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("hmac-sha256", "hmac-sha256"),
        ("HMAC-SHA512", "hmac-sha512"),
        ("sha1", "hmac-sha1"),
        ("hmac-sha224.", "hmac-sha224"),
        ("hmac-md5.sig-alg.reg.int", "hmac-md5"),
    ],
)
def test_algorithm_spellings(given: str, canonical: str) -> None:
    assert normalize_algorithm(given) == canonical


@pytest.mark.parametrize("bad", ["hmac-sha3", "gss-tsig", "", 256])
def test_unknown_algorithm_names_the_choices(bad: object) -> None:
    with pytest.raises(TsigKeyError) as caught:
        normalize_algorithm(bad)  # type: ignore[arg-type]
    assert "hmac-sha256" in str(caught.value)


@pytest.mark.parametrize("name", ["fleet-admin", "host1.example.test", "host1.example.test.", "_acme.x", "A1"])
def test_valid_key_names(name: str) -> None:
    assert check_key_name(name) == name


@pytest.mark.parametrize("name", ["", "a b", 'a"b', "a;b", "a..b", "-a", "a" * 64, "a{b}", None])
def test_invalid_key_names(name: object) -> None:
    with pytest.raises(TsigKeyError, match="not a valid TSIG key name"):
        check_key_name(name)  # type: ignore[arg-type]


def test_parse_understands_comments_quotes_and_several_keys() -> None:
    text = """# made by hand
    /* two keys,
       one unquoted */
    key "a.example" {   // the first
        algorithm "hmac-sha1"; secret "AAAA";
    };
    key b { secret "QUJD\nREVG"; algorithm hmac-md5.sig-alg.reg.int; };
    """
    keys = parse_keys(text)
    assert [(k.name, k.algorithm) for k in keys] == [("a.example", "hmac-sha1"), ("b", "hmac-md5")]
    assert keys[1].secret == "QUJDREVG"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('options { directory "/var/cache/bind"; };', "line 1: found 'options' where a 'key' statement"),
        ('key "a" {\n algorithm hmac-sha256;\n};', "line 1: key 'a' has no secret"),
        ('key "a" {\n secret "AAAA";\n};', "key 'a' has no algorithm"),
        ('key "a" {\n algorithm hmac-sha256;\n secret "AAAA";\n port 53;\n};', "line 4: unknown clause 'port'"),
        ('key "a" { algorithm hmac-sha256; secret "AAAA"; }', "unexpected end of file"),
        ('key "a" { algorithm hmac-sha256; secret AAAA; };', "expected 'string'"),
        ('key "a" { algorithm hmac-sha3; secret "AAAA"; };', "line 1: unknown TSIG algorithm 'hmac-sha3'"),
        ("key { };", "line 1: 'key' without a name"),
        ('key "a b" { algorithm hmac-sha1; secret "AAAA"; };', "not a valid TSIG key name"),
        ('zone "x" { type primary; };', "found 'zone'"),
    ],
)
def test_parse_rejects_anything_but_key_statements_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(TsigKeyError) as caught:
        parse_keys(text)
    assert message in str(caught.value)


def test_errors_never_show_the_secret() -> None:
    bad = f'key "a" {{ algorithm hmac-sha3; secret "{SECRET}"; }};'
    with pytest.raises(TsigKeyError) as caught:
        parse_keys(bad)
    assert SECRET not in str(caught.value)
    with pytest.raises(TsigKeyError) as caught:
        parse_keys('key "a" { algorithm hmac-sha1; secret "not base64!"; };')
    assert "not base64" not in str(caught.value) and "is not valid base64" in str(caught.value)
    assert SECRET not in repr(TsigKey("a", "hmac-sha256", SECRET))


def test_read_key_file(tmp_path) -> None:
    assert read_key_file(str(tmp_path / "missing.key")) is None
    one = tmp_path / "one.key"
    one.write_text(f'key "k" {{ algorithm hmac-sha256; secret "{SECRET}"; }};\n')
    assert read_key_file(str(one)) == TsigKey("k", "hmac-sha256", SECRET)
    conf = tmp_path / "named.conf"
    conf.write_text('options {\n\tdirectory "/var/cache/bind";\n};\n')
    with pytest.raises(TsigKeyError, match=r"named.conf is not a TSIG key file: line 1"):
        read_key_file(str(conf))
    two = tmp_path / "two.key"
    two.write_text(one.read_text() * 2)
    with pytest.raises(TsigKeyError, match="holds 2 keys, not one"):
        read_key_file(str(two))
    empty = tmp_path / "empty.key"
    empty.write_text("# nothing yet\n")
    with pytest.raises(TsigKeyError, match="holds 0 keys"):
        read_key_file(str(empty))
    with pytest.raises(TsigKeyError, match="cannot read"):
        read_key_file(str(tmp_path))


def test_write_is_atomic_private_and_leaves_no_temp_file(tmp_path) -> None:
    path = tmp_path / "k.key"
    old_umask = os.umask(0)  # the file must be private whatever the umask says
    try:
        key = generate_key("k")
        write_key_file(str(path), key)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(str(path)) == key
    assert os.listdir(tmp_path) == ["k.key"]
    write_key_file(str(path), generate_key("k"), mode=0o640)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert read_key_file(str(path)) != key
    assert os.listdir(tmp_path) == ["k.key"]


def test_write_into_a_missing_directory_fails_and_leaves_nothing(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        write_key_file(str(tmp_path / "no" / "k.key"), generate_key("k"))
    assert os.listdir(tmp_path) == []


def test_same_identity_ignores_case_and_final_dot() -> None:
    key = TsigKey("Host1.Example.", "hmac-sha256", SECRET)
    assert key.same_identity("host1.example", "HMAC-SHA256")
    assert not key.same_identity("host1.example", "hmac-sha512")
    assert not key.same_identity("host2.example", "hmac-sha256")
