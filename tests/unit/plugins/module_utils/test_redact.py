"""The one redaction rule: every form and letter case of a secret is masked; short secrets only where
they stand alone, so masking cannot spell them out."""

from __future__ import annotations

from ansible_collections.fleetdns.ddns.plugins.module_utils.redact import MASK, WHOLE_TOKEN_BELOW, Redactor, redact

SECRET = "s3cr3t+/TSIG=="


def test_scrubs_plain_repr_and_json_forms() -> None:
    tricky = 'it\'s a "secret"\\x'
    redactor = Redactor([SECRET, tricky])
    assert redactor.scrub(f"key={SECRET}!") == f"key={MASK}!"
    assert SECRET not in redactor.scrub(repr({"tsig_secret": SECRET}))
    assert "secret" not in redactor.scrub(repr(tricky)).replace(MASK, "")
    assert "secret" not in redactor.scrub('{"v": "it\'s a \\"secret\\"\\\\x"}').replace(MASK, "")


def test_longest_secret_wins_and_empty_values_are_ignored() -> None:
    redactor = Redactor()
    redactor.add("abcdefgh", "abcdefghij", "", None, "  ", b"bytes-secret")
    assert redactor.scrub("abcdefghij abcdefgh bytes-secret") == f"{MASK} {MASK} {MASK}"
    assert len(Redactor()) == 0
    assert Redactor().scrub("nothing to hide") == "nothing to hide"


def test_any_letter_case_is_masked() -> None:
    """A secret used as a record name comes back lower-cased by name normalisation."""
    text = f"'{SECRET.lower()}.example.test': label '{SECRET.upper()}' is not valid"
    assert redact(text, [SECRET]) == f"'{MASK}.example.test': label '{MASK}' is not valid"


def test_a_short_secret_is_masked_only_where_it_stands_alone() -> None:
    assert len("e") < WHOLE_TOKEN_BELOW
    text = "the secret e, the-key-name, 'E' and e.example.test"
    assert redact(text, ["e"]) == f"the secret {MASK}, the-key-name, '{MASK}' and {MASK}.example.test"
    assert redact("port 5353 of 53530", ["5353"]) == f"port {MASK} of 53530"


def test_a_long_secret_is_masked_inside_words_too() -> None:
    assert redact(f"x{SECRET}y", [SECRET]) == f"x{MASK}y"
