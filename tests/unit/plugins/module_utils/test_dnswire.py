"""The wire codec against dnspython: what we encode dnspython reads identically, and back."""

from __future__ import annotations

import base64
import struct
import time

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.update
import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils import dnswire
from ansible_collections.fleetdns.ddns.plugins.module_utils.rdata import canonical_text, normalize_value
from hypothesis import example, given, settings
from hypothesis import strategies as st

ZONE = "example.test."
SECRET = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
KEY_NAME = "fleet-admin."
HEX = "ab" * 32

# (type, presentation value) pairs covering every managed type, names with odd cases and escapes.
SAMPLES = [
    ("A", "192.0.2.1"),
    ("AAAA", "2001:db8::1"),
    ("AAAA", "::ffff:192.0.2.1"),
    ("CNAME", "Target.Example.NET."),
    ("DNAME", "example.net."),
    ("MX", "10 Mail.example.test."),
    ("NS", "ns1.example.net."),
    ("PTR", "host.example.net."),
    ("SRV", "10 5 5060 SIP.example.test."),
    ("TXT", '"hello world"'),
    ("TXT", '"quote \\" and backslash \\\\" "second string"'),
    ("TXT", '"caf\\195\\169 \\000 \\127 tab\\009"'),
    ("TXT", '""'),
    ("TXT", '"' + "x" * 255 + '" "' + "y" * 45 + '"'),
    ("CAA", '0 issue "letsencrypt.org"'),
    ("CAA", '128 iodef "mailto:ops@example.test"'),
    ("DS", f"12345 13 2 {HEX}"),
    ("SSHFP", f"4 2 {HEX}"),
    ("TLSA", f"3 1 1 {HEX}"),
    ("LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
    ("NAPTR", '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.test!" .'),
    ("HTTPS", '1 . alpn="h2,h3"'),
    ("SVCB", '1 svc.example.net. port=8443 alpn="h3"'),
    ("SOA", "NS1.example.test. hostmaster.Example.test. 2026112301 3600 600 86400 300"),
]


def _rdata(rtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text(dns.rdataclass.IN, rtype, text, origin=dns.name.root, relativize=False)


def _key() -> dns.tsig.Key:
    return dns.tsig.Key(KEY_NAME, SECRET, "hmac-sha256")


def _signer(secret: str = SECRET, algorithm: str = "hmac-sha256") -> dnswire.TsigSigner:
    return dnswire.TsigSigner(KEY_NAME, algorithm, base64.b64decode(secret))


# --------------------------------------------------------------------------- encoding


def test_update_message_reads_back_identically_in_dnspython() -> None:
    mx = dnswire.encode_rdata("MX", "10 mail.example.test.")
    txt = dnswire.encode_rdata("TXT", '"fleetdns-owner=me"')
    ours = dnswire.UpdateMessage(ZONE, 4321)
    ours.require_no_rrset("www.example.test.", dnswire.TYPE_A)
    ours.require_rrset_values("example.test.", dnswire.TYPE_MX, [mx])
    ours.require_rrset("mail.example.test.", dnswire.TYPE_A)
    ours.require_name("used.example.test.")
    ours.require_no_name("free.example.test.")
    ours.require_no_rrset("a.www._fleetdns.example.test.", dnswire.TYPE_TXT)
    ours.delete_rrset("old.example.test.", dnswire.TYPE_A)
    ours.delete_name("gone.example.test.")
    ours.delete_rr("example.test.", dnswire.TYPE_MX, mx)
    ours.add("www.example.test.", dnswire.TYPE_A, 300, dnswire.encode_rdata("A", "192.0.2.1"))
    ours.add("a.www._fleetdns.example.test.", dnswire.TYPE_TXT, 300, txt)

    theirs = dns.update.UpdateMessage(ZONE, id=4321)
    theirs.absent("www.example.test.", "A")
    theirs.present("example.test.", _rdata("MX", "10 mail.example.test."))
    theirs.present("mail.example.test.", "A")
    theirs.present("used.example.test.")
    theirs.absent("free.example.test.")
    theirs.absent("a.www._fleetdns.example.test.", "TXT")
    theirs.delete("old.example.test.", "A")
    theirs.delete("gone.example.test.")
    theirs.delete("example.test.", _rdata("MX", "10 mail.example.test."))
    theirs.add("www.example.test.", 300, _rdata("A", "192.0.2.1"))
    theirs.add("a.www._fleetdns.example.test.", 300, _rdata("TXT", '"fleetdns-owner=me"'))

    parsed = dns.message.from_wire(ours.to_wire())
    assert isinstance(parsed, dns.update.UpdateMessage)
    assert parsed.id == 4321
    assert parsed.opcode() == dns.opcode.UPDATE
    assert parsed == dns.message.from_wire(theirs.to_wire())
    assert [str(r) for r in parsed.prerequisite] == [str(r) for r in theirs.prerequisite]
    assert [str(r) for r in parsed.update] == [str(r) for r in theirs.update]
    assert ours.prereq_count == 6 and ours.update_count == 5


@pytest.mark.parametrize(("rtype", "text"), SAMPLES)
def test_every_type_encodes_to_the_same_rdata_as_dnspython(rtype: str, text: str) -> None:
    value = canonical_text(_rdata(rtype, text))
    ours = dnswire.UpdateMessage(ZONE)
    ours.add("rec.example.test.", dnswire.type_code(rtype), 600, dnswire.encode_rdata(rtype, value))
    parsed = dns.message.from_wire(ours.to_wire())
    (rrset,) = parsed.update
    assert rrset.ttl == 600
    assert [canonical_text(r) for r in rrset] == [value]


def test_names_are_compressed_against_the_zone_and_earlier_prerequisites() -> None:
    message = dnswire.UpdateMessage(ZONE)
    message.require_no_rrset("www.example.test.", dnswire.TYPE_A)
    after_first = message.size
    message.require_no_rrset("www.example.test.", dnswire.TYPE_AAAA)
    assert message.size - after_first == 2 + 10  # the whole owner name is one pointer
    message.require_no_rrset("mail.example.test.", dnswire.TYPE_A)
    assert message.size - after_first - 12 == 1 + 4 + 2 + 10  # one label, then a pointer to the zone
    before_update = message.size
    message.add("www.example.test.", dnswire.TYPE_A, 300, b"\xc0\x00\x02\x01")
    assert message.size - before_update == 2 + 10 + 4  # update owners point into the prerequisites
    parsed = dns.message.from_wire(message.to_wire())
    assert [r.name.to_text() for r in parsed.prerequisite] == [
        "www.example.test.",
        "www.example.test.",
        "mail.example.test.",
    ]
    assert parsed.update[0].name.to_text() == "www.example.test."


def test_no_compression_pointer_beyond_16k() -> None:
    """Offsets past 0x3FFF cannot be pointed at; such names are written out (and still parse)."""
    message = dnswire.UpdateMessage(ZONE)
    for index in range(1500):
        message.require_no_rrset(f"host-{index:05d}.example.test.", dnswire.TYPE_A)
    for index in range(1500):
        message.add(f"host-{index:05d}.example.test.", dnswire.TYPE_A, 60, bytes([192, 0, 2, index % 250]))
    assert message.size > 0x4000
    parsed = dns.message.from_wire(message.to_wire())
    assert len(parsed.update) == 1500
    assert parsed.update[-1].name.to_text() == "host-01499.example.test."


def test_rollback_undoes_records_and_compression_targets() -> None:
    message = dnswire.UpdateMessage(ZONE)
    message.require_no_rrset("keep.example.test.", dnswire.TYPE_A)
    mark = message.mark()
    size = message.size
    message.require_no_rrset("drop.example.test.", dnswire.TYPE_A)
    message.add("drop.example.test.", dnswire.TYPE_A, 60, bytes(4))
    message.rollback(mark)
    assert message.size == size and message.update_count == 0 and message.prereq_count == 1
    message.add("drop.example.test.", dnswire.TYPE_A, 60, bytes(4))  # must not point at the removed name
    parsed = dns.message.from_wire(message.to_wire())
    assert parsed.update[0].name.to_text() == "drop.example.test."


def test_escaped_and_root_names_are_written_out() -> None:
    message = dnswire.UpdateMessage(ZONE)
    message.add("we\\.ird.example.test.", dnswire.TYPE_A, 60, bytes(4))
    parsed = dns.message.from_wire(message.to_wire())
    assert parsed.update[0].name == dns.name.from_text("we\\.ird.example.test.")
    assert dnswire.name_to_wire(".") == b"\x00"


def test_bad_labels_are_rejected() -> None:
    with pytest.raises(dnswire.WireError):
        dnswire.name_to_wire("a..example.test.")
    with pytest.raises(dnswire.WireError):
        dnswire.name_to_wire("x" * 64 + ".example.test.")
    with pytest.raises(dnswire.WireError):
        dnswire.UpdateMessage(ZONE).add("x" * 64 + ".example.test.", 1, 1, bytes(4))


# --------------------------------------------------------------------------- decoding


def _response(records: list[tuple[str, str, str]], ttl: int = 300) -> bytes:
    """A dnspython-built, compressed response holding the given (name, type, text) records."""
    query = dns.message.make_query(ZONE, "AXFR")
    response = dns.message.make_response(query)
    for name, rtype, text in records:
        rrset = response.find_rrset(
            response.answer, dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.from_text(rtype), create=True
        )
        rrset.add(_rdata(rtype, text), ttl)
    return response.to_wire()


def test_every_type_decodes_to_the_canonical_text() -> None:
    records = [(f"Rec{i}.Example.TEST.", rtype, text) for i, (rtype, text) in enumerate(SAMPLES)]
    reply = dnswire.parse_reply(_response(records))
    assert reply.is_response and reply.rcode == 0
    got = [(name, dnswire.type_name(rtype), ttl, value) for name, rtype, _cls, ttl, value in reply.answer]
    want = [(f"rec{i}.example.test.", t, 300, canonical_text(_rdata(t, x))) for i, (_n, t, x) in enumerate(records)]
    assert got == want


def test_decoding_follows_compression_pointers() -> None:
    names = ["example.test.", "www.example.test.", "a.www._fleetdns.example.test.", "b.a.www._fleetdns.example.test."]
    wire = _response([(n, "MX", f"10 {m}") for n, m in zip(names, reversed(names), strict=True)])
    assert wire.count(b"\x07example\x04test\x00") == 1  # dnspython compressed everything else
    reply = dnswire.parse_reply(wire)
    assert [(rr[0], rr[4]) for rr in reply.answer] == [
        (n, f"10 {m}") for n, m in zip(names, reversed(names), strict=True)
    ]


def test_names_with_odd_bytes_print_as_dnspython_prints_them() -> None:
    name = dns.name.Name([b"we.ird", b"Sp ace", b"@", b"example", b"test", b""])
    wire = _response([(name.to_text(), "A", "192.0.2.1"), (name.to_text(), "CNAME", name.to_text())])
    reply = dnswire.parse_reply(wire)
    expected = dns.name.Name([label.lower() for label in name.labels]).to_text()
    assert reply.answer[0][0] == expected
    assert reply.answer[1][4] == expected


def _header(ancount: int) -> bytes:
    return struct.pack(">HHHHHH", 1, 0x8400, 0, ancount, 0, 0)


def test_pointer_loops_and_forward_pointers_are_rejected() -> None:
    looping = _header(1) + b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + bytes(4)
    with pytest.raises(dnswire.WireError, match="backwards"):
        dnswire.parse_reply(looping)
    forward = _header(1) + b"\xc0\x20" + struct.pack(">HHIH", 1, 1, 0, 4) + bytes(4)
    with pytest.raises(dnswire.WireError):
        dnswire.parse_reply(forward)
    # a label, then a pointer back into that same label: a loop through the middle of a name
    middle = _header(1) + b"\x01a\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + bytes(4)
    with pytest.raises(dnswire.WireError):
        dnswire.parse_reply(middle)


@pytest.mark.parametrize("cut", [5, 13, 20, 30, 40])
def test_truncated_messages_are_rejected(cut: int) -> None:
    wire = _response([("www.example.test.", "A", "192.0.2.1"), ("www.example.test.", "TXT", '"x"')])
    with pytest.raises(dnswire.WireError):
        dnswire.parse_reply(wire[:cut])


def test_bad_rdata_lengths_are_rejected() -> None:
    wire = _header(1) + b"\x00" + struct.pack(">HHIH", 1, 1, 0, 3) + bytes(3)
    with pytest.raises(dnswire.WireError, match="A rdata"):
        dnswire.parse_reply(wire)


labels = st.binary(min_size=1, max_size=20)
txt_strings = st.lists(st.binary(max_size=255), min_size=1, max_size=3)


@settings(max_examples=150)
@given(st.lists(labels, min_size=1, max_size=4), txt_strings)
def test_decoding_matches_dnspython_for_arbitrary_labels_and_txt(parts: list[bytes], strings: list[bytes]) -> None:
    name = dns.name.Name([*parts, b"example", b"test", b""])
    txt = dns.rdata.from_wire(dns.rdataclass.IN, dns.rdatatype.TXT, b"".join(bytes([len(s)]) + s for s in strings), 0,
                              sum(len(s) + 1 for s in strings))  # fmt: skip
    query = dns.message.make_query(name, "TXT")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_rdata(name, 60, txt))
    reply = dnswire.parse_reply(response.to_wire())
    assert reply.question == [(dns.name.Name([p.lower() for p in name.labels]).to_text(), dns.rdatatype.TXT)]
    (rr,) = reply.answer
    assert rr[0] == dns.name.Name([p.lower() for p in name.labels]).to_text()
    assert rr[4] == canonical_text(txt)


@settings(max_examples=150)
@given(st.lists(st.lists(labels, min_size=1, max_size=3), min_size=1, max_size=6))
@example([[b"a", b"we.ird"], [b"A.b", b"c"], [b"txt", b"Host-1"]])  # a dot inside a label is escaped
def test_names_sharing_a_suffix_decode_as_dnspython_decodes_them(prefixes: list[list[bytes]]) -> None:
    # As in a zone transfer: markers <type>.<name>._fleetdns.<zone> compress to labels + a pointer.
    names = [dns.name.from_text("_fleetdns.example.test.")]
    names += [dns.name.Name([*parts, b"_fleetdns", b"example", b"test", b""]) for parts in prefixes]
    response = dns.message.make_response(dns.message.make_query(names[0], "TXT"))
    for name in names:
        response.answer.append(dns.rrset.from_text(name, 60, "IN", "TXT", '"fleetdns-owner=x"'))
    reply = dnswire.parse_reply(response.to_wire())
    want = [dns.name.Name([p.lower() for p in rrset.name.labels]).to_text() for rrset in response.answer]
    assert [rr[0] for rr in reply.answer] == want


@settings(max_examples=100)
@given(st.text(min_size=1, max_size=600).filter(lambda t: not t.startswith('"')))  # a leading quote is zone syntax
def test_txt_from_the_inventory_survives_encode_and_decode(text: str) -> None:
    value = normalize_value("TXT", text, ZONE)
    message = dnswire.UpdateMessage(ZONE)
    message.add("t.example.test.", dnswire.TYPE_TXT, 60, dnswire.encode_rdata("TXT", value))
    wire = message.to_wire()
    # the update section of our own message decodes with our decoder (header says 0 answers; fake them)
    as_response = struct.pack(">HHHHHH", 0, 0x8000, 1, message.prereq_count + message.update_count, 0, 0) + wire[12:]
    reply = dnswire.parse_reply(as_response)
    assert reply.answer[0][4] == value


# --------------------------------------------------------------------------- TSIG


def test_our_signature_verifies_in_dnspython_and_tampering_is_caught() -> None:
    message = dnswire.UpdateMessage(ZONE, 77)
    message.add("www.example.test.", dnswire.TYPE_A, 300, dnswire.encode_rdata("A", "192.0.2.1"))
    signer = _signer()
    wire, mac = signer.sign(message.to_wire())
    assert len(wire) == message.size + signer.overhead
    keyring = {dns.name.from_text(KEY_NAME): _key()}
    parsed = dns.message.from_wire(wire, keyring=keyring)
    assert parsed.had_tsig and parsed.mac == mac
    tampered_data = bytearray(wire)
    tampered_data[message.size - 1] ^= 0x01  # last byte of the A address
    with pytest.raises(dns.tsig.BadSignature):
        dns.message.from_wire(bytes(tampered_data), keyring=keyring)
    other = {dns.name.from_text(KEY_NAME): dns.tsig.Key(KEY_NAME, base64.b64encode(b"x" * 32).decode())}
    with pytest.raises(dns.tsig.BadSignature):
        dns.message.from_wire(wire, keyring=other)


@pytest.mark.parametrize("algorithm", dnswire.TSIG_ALGORITHMS)
def test_every_algorithm_signs_verifiably(algorithm: str) -> None:
    signer = _signer(algorithm=algorithm)
    wire, _mac = signer.sign(dnswire.make_query(9, ZONE, dnswire.TYPE_SOA)[0])
    assert len(wire) == 12 + len(dnswire.name_to_wire(ZONE)) + 4 + signer.overhead
    key = dns.tsig.Key(KEY_NAME, SECRET, signer._key.algorithm)
    assert dns.message.from_wire(wire, keyring={key.name: key}).had_tsig


def _signed_response(query_wire: bytes, secret: str = SECRET, records: int = 1) -> dns.message.Message:
    keyring = {dns.name.from_text(KEY_NAME): dns.tsig.Key(KEY_NAME, secret, "hmac-sha256")}
    query = dns.message.from_wire(query_wire, keyring={dns.name.from_text(KEY_NAME): _key()})
    response = dns.message.make_response(query)
    response.use_tsig(keyring[dns.name.from_text(KEY_NAME)], original_id=query.id)  # sign with `secret`
    for index in range(records):
        response.answer.append(dns.rrset.from_text(f"h{index}.{ZONE}", 60, "IN", "A", "192.0.2.1"))
    return response


def test_signed_reply_verifies_and_tampered_reply_is_rejected() -> None:
    signer = _signer()
    query, mac = dnswire.make_query(5, "h0." + ZONE, dnswire.TYPE_A, signer)
    wire = _signed_response(query).to_wire()
    reply = dnswire.parse_reply(wire, signer.verifier(mac))
    assert reply.signed and reply.answer[0][4] == "192.0.2.1"
    tampered = bytearray(wire)
    tampered[wire.index(b"\xc0\x00\x02\x01")] ^= 0x01  # the address
    with pytest.raises(dnswire.TsigError) as caught:
        dnswire.parse_reply(bytes(tampered), signer.verifier(mac))
    assert caught.value.code == "badsig"
    with pytest.raises(dnswire.TsigError):
        dnswire.parse_reply(wire, signer.verifier(b"\x00" * 32))  # bound to another request
    wrong = _signed_response(query, secret=base64.b64encode(b"y" * 32).decode()).to_wire()
    with pytest.raises(dnswire.TsigError, match="does not verify"):
        dnswire.parse_reply(wrong, signer.verifier(mac))


def test_unsigned_answers_are_rejected_unless_they_are_errors() -> None:
    signer = _signer()
    query, mac = dnswire.make_query(5, ZONE, dnswire.TYPE_SOA, signer)
    plain = dns.message.make_response(dns.message.from_wire(query, keyring={dns.name.from_text(KEY_NAME): _key()}))
    plain.tsig = None
    plain.want_tsig_sign = False
    with pytest.raises(dnswire.TsigError, match="not signed"):
        dnswire.parse_reply(plain.to_wire(), signer.verifier(mac))
    plain.set_rcode(dns.rcode.REFUSED)
    reply = dnswire.parse_reply(plain.to_wire(), signer.verifier(mac))
    assert reply.rcode == dns.rcode.REFUSED and not reply.signed


def test_peer_tsig_errors_are_reported_by_code() -> None:
    signer = _signer()
    query, mac = dnswire.make_query(5, ZONE, dnswire.TYPE_SOA, signer)
    for error, code in ((dns.rcode.BADSIG, "peer-badsig"), (dns.rcode.BADKEY, "peer-badkey"),
                        (dns.rcode.BADTIME, "peer-badtime")):  # fmt: skip
        response = _signed_response(query, records=0)
        response.set_rcode(dns.rcode.NOTAUTH)
        response.use_tsig(response.keyring, original_id=5, tsig_error=error)
        with pytest.raises(dnswire.TsigError) as caught:
            dnswire.parse_reply(response.to_wire(), signer.verifier(mac))
        assert caught.value.code == code


def test_zone_transfer_verifies_every_message_in_one_context() -> None:
    signer = _signer()
    query, mac = dnswire.make_query(5, ZONE, dnswire.TYPE_AXFR, signer)
    wires = []
    ctx = None
    for part in range(3):
        response = _signed_response(query, records=2)
        response.answer = [dns.rrset.from_text(f"p{part}.{ZONE}", 60, "IN", "A", f"192.0.2.{part}")]
        if part:
            response.question = []
        wires.append(response.to_wire(multi=True, tsig_ctx=ctx))
        ctx = response.tsig_ctx
    verifier = signer.verifier(mac, multi=True)
    values = [dnswire.parse_reply(w, verifier).answer[0][4] for w in wires]
    assert values == ["192.0.2.0", "192.0.2.1", "192.0.2.2"]
    assert verifier.last_was_signed and verifier.signed_messages == 3

    # The messages are chained: replaying the second one out of order fails.
    verifier = signer.verifier(mac, multi=True)
    dnswire.parse_reply(wires[0], verifier)
    with pytest.raises(dnswire.TsigError):
        dnswire.parse_reply(wires[2], verifier)


def test_signer_never_shows_the_secret() -> None:
    signer = _signer()
    assert SECRET not in repr(signer)
    assert "fleet-admin" in repr(signer)
    with pytest.raises(ValueError, match="unsupported TSIG algorithm"):
        dnswire.TsigSigner("k", "hmac-whirlpool", b"x")


def test_queries_are_plain_questions() -> None:
    wire, mac = dnswire.make_query(42, "www.example.test.", dnswire.TYPE_AAAA)
    parsed = dns.message.from_wire(wire)
    assert mac == b"" and parsed.id == 42 and not parsed.flags & dns.flags.RD
    assert parsed.question[0].to_text() == "www.example.test. IN AAAA"


def test_an_answer_read_late_is_checked_against_when_it_could_have_been_signed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An UPDATE's answer may sit unread while another zone is applied; the clock check then allows
    for that wait, while an answer signed long before the request was sent still fails it."""
    signer = _signer()
    query, mac = dnswire.make_query(5, ZONE, dnswire.TYPE_SOA, signer)
    sent_at = time.time()
    wire = _signed_response(query, records=0).to_wire()
    later = sent_at + 400  # beyond the 300 s fudge
    monkeypatch.setattr(dnswire.time, "time", lambda: later)
    with pytest.raises(dnswire.TsigError) as caught:
        dnswire.parse_reply(wire, signer.verifier(mac))
    assert caught.value.code == "badtime"
    assert dnswire.parse_reply(wire, signer.verifier(mac, sent_at=sent_at)).signed
    with pytest.raises(dnswire.TsigError):
        dnswire.parse_reply(wire, signer.verifier(mac, sent_at=sent_at + 350))  # signed 350 s before "sent"
