"""The event-stream YAML loader: same data as PyYAML's SafeLoader (so as Ansible), plus positions."""

from __future__ import annotations

import datetime
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fleetdns import yamlload
from fleetdns.secret_options import is_secret_option
from fleetdns.yamlload import MAX_DEPTH, Limits, Positions, Unsafe, VaultText, YamlProblems, load_yaml, read_file


def load(text: str) -> tuple[object, Positions]:
    positions = Positions()
    return load_yaml(text.encode(), "f.yml", positions), positions


def problems(text: str) -> list[str]:
    with pytest.raises(YamlProblems) as caught:
        load(text)
    return [f"{p.location.line}:{p.location.column} {p.message} | {p.hint}" for p in caught.value.problems]


# -- same data as yaml.safe_load -------------------------------------------------------------------

YAML11 = """\
bools: [yes, No, on, OFF, true, False, y, n]
ints: [0x1f, 017, 1_000, +3, -4, 1:20, 0b101]
floats: [1.5, .5, 1e3, -.inf, 6.8523015e+5, 1:20.5]
nulls: [~, null, Null]
empty:
strings: ['yes', "017", 0o17, 1.2.3, 192.0.2.1, "2001:db8::1", '@', a b c]
dates: [2024-01-31, 2024-01-31T10:20:30Z]
block: |
  line one
  line two
folded: >
  folded
  text
empty_map: {}
empty_list: []
"""


def test_yaml11_implicit_types_match_safe_load() -> None:
    data = load(YAML11)[0]
    assert data == yaml.safe_load(YAML11)
    assert data["bools"] == [True, False, True, False, True, False, "y", "n"]
    assert data["ints"][5] == 80  # YAML 1.1 sexagesimal, as Ansible reads it
    assert data["dates"][0] == datetime.date(2024, 1, 31)


def test_anchors_aliases_and_merge_keys_match_safe_load() -> None:
    text = """\
base: &base {type: A, ttl: 300}
other: &other {ttl: 60, extra: 1}
one: {<<: *base, name: www}
two:
  <<: [*other, *base]
  ttl: 10
three: *base
list: &l [1, 2]
again: *l
"""
    data, positions = load(text)
    assert data == yaml.safe_load(text)
    assert data["two"] == {"ttl": 10, "extra": 1, "type": "A"}
    assert data["three"] is data["base"]  # aliases share, like PyYAML
    # a merged key points at where it is written: in the anchored mapping
    assert str(positions.value(data["one"], "type")) == "f.yml:1:20"
    assert str(positions.value(data["one"], "name")) == "f.yml:3:24"


def test_duplicate_key_is_an_error_naming_both_lines() -> None:
    (problem,) = problems("a: 1\nb: 2\na: 3\n")
    assert problem.startswith("3:1 duplicate key 'a' (first defined at line 1)")
    assert "lines 1 and 3" in problem


def test_duplicate_keys_in_nested_flow_mappings_are_found() -> None:
    (problem,) = problems("records:\n  - {name: www, type: A, name: web}\n")
    assert problem.startswith("2:26 duplicate key 'name'")


def test_every_duplicate_is_reported() -> None:
    assert len(problems("a: 1\na: 2\nb: {c: 1, c: 2}\n")) == 2


def test_syntax_error_is_located_with_a_hint() -> None:
    (problem,) = problems("all:\n  vars:\n    a: [1, 2\n    b: 3\n")
    assert problem.split(" ")[0] in ("4:6", "4:5")
    assert "YAML syntax error" in problem


def test_tab_indentation_names_the_tab() -> None:
    (problem,) = problems("all:\n\tvars: {}\n")
    assert problem.startswith("2:1 YAML syntax error: a tab character")
    assert "spaces" in problem


def test_unquoted_colon_value() -> None:
    (problem,) = problems("a: b: c\n")
    assert problem.startswith("1:5 YAML syntax error: mapping values are not allowed")
    assert "quote the value" in problem


def test_undefined_alias() -> None:
    (problem,) = problems("a: *nothing\n")
    assert problem.startswith("1:4 alias *nothing has no anchor")


def test_recursive_alias_is_refused() -> None:
    (problem,) = problems("a: &x {b: *x}\n")
    assert "refers to a node that contains it" in problem


def test_second_document_is_refused() -> None:
    (problem,) = problems("a: 1\n---\nb: 2\n")
    assert problem.startswith("2:1 more than one YAML document")


def test_list_as_key_is_refused() -> None:
    (problem,) = problems("? [a, b]\n: 1\n")
    assert "mapping key must be a plain value" in problem


def test_not_utf8() -> None:
    with pytest.raises(YamlProblems) as caught:
        load_yaml(b"a: 1\nb: caf\xe9\n", "f.yml", Positions())
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column) == (2, 7)
    assert "not UTF-8" in problem.message


def test_control_character() -> None:
    (problem,) = problems("a: 1\nb: x\x07y\n")
    assert "'\\x07' is not allowed" in problem
    assert problem.startswith("2:5")


def test_bad_explicit_int() -> None:
    (problem,) = problems("a: !!int abc\n")
    assert problem.startswith("1:4 'abc' is not a valid int")


def test_unknown_tag() -> None:
    assert "not supported" in problems("a: !custom x\n")[0]
    assert "not supported" in problems("a: !!set {x: }\n")[0]


def test_bom_is_accepted() -> None:
    assert load_yaml(b"\xef\xbb\xbfa: 1\n", "f.yml", Positions()) == {"a": 1}


def test_empty_document_is_none() -> None:
    assert load("")[0] is None
    assert load("# only a comment\n")[0] is None


# -- Ansible tags -------------------------------------------------------------------------------------


def test_vault_tag_keeps_ciphertext_and_position() -> None:
    data = load("secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n")[0]
    value = data["secret"]
    assert isinstance(value, VaultText)
    assert value.ciphertext == "$ANSIBLE_VAULT;1.1;AES256\n6162\n"
    assert (value.line, value.column) == (1, 9)
    assert "ANSIBLE" not in repr(value)


def test_unsafe_tag_on_scalars_and_collections() -> None:
    data = load("a: !unsafe '{{ x }}'\nb: !unsafe 12\nc: !unsafe {d: '{{ y }}', e: [f]}\n")[0]
    assert isinstance(data["a"], Unsafe) and data["a"] == "{{ x }}"
    assert data["b"] == 12  # Ansible resolves the scalar as if untagged
    assert isinstance(data["c"]["d"], Unsafe) and isinstance(data["c"]["e"][0], Unsafe)


def test_string_hook_wraps_values_not_keys() -> None:
    data = load_yaml("a: x\nb: [y, 1]\nc: {d: z}\n", "f.yml", Positions(), lambda s: f"<{s}>")
    assert data == {"a": "<x>", "b": ["<y>", 1], "c": {"d": "<z>"}}


def test_templated_containers_are_marked() -> None:
    data, positions = load("a: {b: [1, '{{ x }}']}\nc: {d: 1}\ns: !vault x\n")
    assert id(data["a"]) in positions.templated and id(data["a"]["b"]) in positions.templated
    assert id(data["c"]) not in positions.templated
    assert id(data) in positions.templated


# -- positions ---------------------------------------------------------------------------------------


def test_positions_of_values_keys_items_and_containers() -> None:
    text = """\
all:
  vars:
    zones:
      example.test:
        records:
          - {name: www, type: A, value: 192.0.2.1}
          - name: mail
            value: [10.0.0.1, "10.0.0.2"]
"""
    data, positions = load(text)
    zone = data["all"]["vars"]["zones"]["example.test"]
    first, second = zone["records"]
    assert str(positions.value(first, "value")) == "f.yml:6:41"
    assert str(positions.key(first, "value")) == "f.yml:6:34"
    assert str(positions.value(zone["records"], 1)) == "f.yml:7:13"
    assert str(positions.value(second["value"], 1)) == "f.yml:8:31"
    # a container's own place: the key that holds it, or its first character in a list
    assert str(positions.value(zone, None)) == "f.yml:4:7"
    assert str(positions.value(first, None)) == "f.yml:6:13"
    # unknown keys fall back to the container
    assert str(positions.value(first, "ttl")) == "f.yml:6:13"
    assert positions.value({}, "x") is None


# -- properties --------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=True, width=32),
    st.text(alphabet=string.printable.replace("\r", "").replace("\x0b", "").replace("\x0c", ""), max_size=12),
    st.sampled_from(["yes", "no", "on", "off", "~", "1:20", "0x10", "2024-01-02", "@", "- x", "a: b", "{{ x }}"]),
)
_keys = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "_-. ", min_size=1, max_size=8), st.integers()
)
_documents = st.recursive(
    _scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_keys, children, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=150)
@given(data=_documents, flow=st.sampled_from([True, False, None]), width=st.sampled_from([20, 80]))
def test_loader_equals_safe_load(data: object, flow: bool | None, width: int) -> None:
    text = yaml.safe_dump({"root": data}, default_flow_style=flow, width=width, allow_unicode=True)
    loaded = load(text)[0]
    assert loaded == yaml.safe_load(text)


_plain_words = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10).filter(
    lambda w: w not in ("y", "n", "yes", "no", "on", "off", "true", "false", "null")
)


@settings(max_examples=100)
@given(
    data=st.dictionaries(
        _plain_words,
        st.one_of(
            _plain_words,
            st.lists(_plain_words, min_size=1, max_size=3),
            st.dictionaries(_plain_words, _plain_words, min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=6,
    ),
    flow=st.sampled_from([True, False, None]),
)
def test_positions_point_at_the_scalar(data: dict, flow: bool | None) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, width=1000)
    lines = text.splitlines()
    loaded, positions = load(text)

    def at(location: object) -> str:
        return lines[location.line - 1][location.column - 1 :]

    for key, value in loaded.items():
        assert at(positions.key(loaded, key)).startswith(key)
        if isinstance(value, str):
            assert at(positions.value(loaded, key)).startswith(value)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                assert at(positions.value(value, index)).startswith(item)
        else:
            for inner_key, item in value.items():
                assert at(positions.key(value, inner_key)).startswith(inner_key)
                assert at(positions.value(value, inner_key)).startswith(item)


# -- bounds on hostile input -----------------------------------------------------------------------


def test_nesting_up_to_the_limit_loads_and_one_more_level_is_refused() -> None:
    assert load("[" * MAX_DEPTH + "]" * MAX_DEPTH)[0] is not None
    (problem,) = problems("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert problem.startswith(f"1:{MAX_DEPTH + 3} mappings and lists are nested more than {MAX_DEPTH} levels")


def test_the_alias_budget_is_shared_by_the_files_of_one_inventory() -> None:
    limits = Limits(aliases=3, alias_values=100)
    load_yaml("a: &a [1, 2]\nb: [*a, *a]\n", "one.yml", Positions(), limits=limits)
    assert (limits.aliases, limits.alias_values) == (1, 94)  # each use of *a brings in 3 values
    with pytest.raises(YamlProblems) as caught:
        load_yaml("x: &x 1\ny: [*x, *x]\n", "two.yml", Positions(), limits=limits)
    (problem,) = caught.value.problems
    assert (problem.location.file, problem.location.line, problem.location.column) == ("two.yml", 2, 9)
    assert "more than 100,000 aliases are used" in problem.message


def test_aliases_are_charged_for_everything_they_bring_in() -> None:
    limits = Limits(alias_values=20)
    with pytest.raises(YamlProblems) as caught:
        load_yaml("a: &a [x, x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", "f.yml", Positions(), limits=limits)
    (problem,) = caught.value.problems
    assert (problem.location.line, problem.location.column) == (3, 9)  # *a: 4 + 4, then *b: 9 + 9 > 20
    assert "aliases bring in more than" in problem.message


def test_a_file_larger_than_the_limit_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_FILE_BYTES", 10)
    path = tmp_path / "big.yml"
    path.write_text("a: 1234567890\n")
    with pytest.raises(YamlProblems) as caught:
        read_file(path, "big.yml")
    assert "the file is larger than" in caught.value.problems[0].message
    path.write_text("a: 1\n")
    assert read_file(path, "big.yml") == b"a: 1\n"


@pytest.mark.parametrize("key", ["tsig_secret", "API_TOKEN"])
def test_a_value_under_a_secret_option_is_not_quoted_in_a_problem(key: str) -> None:
    for text in (f"lab:\n  {key}: !!int s3cr3tvalue\n", f"lab:\n  {key}: [1, !!float s3cr3tvalue]\n"):
        (problem,) = problems(text)
        assert "s3cr3tvalue" not in problem
        assert f"the value of {key} cannot be read as written (not shown: it is a secret)" in problem
    assert "s3cr3tvalue" in problems("lab:\n  port: !!int s3cr3tvalue\n")[0]


def test_an_aliased_unsafe_container_is_marked_once() -> None:
    data, _positions = load("a: &a ['{{ x }}']\nb: !unsafe [*a, *a]\n")
    assert data["b"][0] is data["b"][1] is data["a"]
    assert isinstance(data["a"][0], Unsafe)


def test_the_update_only_providers_secret_options_count_as_secret() -> None:
    assert all(is_secret_option(k) for k in ("password", "token", "ipv6_token", "Tsig_Secret", "api_token"))
    assert not any(is_secret_option(k) for k in ("username", "server", "domain"))
