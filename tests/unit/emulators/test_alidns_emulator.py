"""The Alibaba Cloud DNS emulator's signature check: the published ACS3 example passes and any one-byte
change of it fails; over HTTP, each kind of bad request gets the service's error body; paging and ids."""

from __future__ import annotations

import calendar
import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.signing import Credentials, acs3_sign

try:
    from emulators.alidns import AliDnsEmulator
    from emulators.alidns_acs3 import AcsError, Verifier
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators.alidns import AliDnsEmulator
    from ansible_collections.fleetdns.ddns.tests.emulators.alidns_acs3 import AcsError, Verifier

# The worked example of Alibaba Cloud's "V3 request structure and signature" page.
VECTOR_DATE = "2023-10-26T10:22:32Z"
VECTOR_QUERY = "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
VECTOR_SIGNATURE = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
EMPTY = hashlib.sha256(b"").hexdigest()


def vector_headers(signature: str = VECTOR_SIGNATURE) -> dict[str, str]:
    signed = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    return {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-content-sha256": EMPTY,
        "x-acs-date": VECTOR_DATE,
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-version": "2014-05-26",
        "Authorization": f"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={signed},Signature={signature}",
    }


def vector_verifier(secret: str = "YourAccessKeySecret") -> Verifier:
    moment = calendar.timegm(time.strptime(VECTOR_DATE, "%Y-%m-%dT%H:%M:%SZ"))
    return Verifier({"YourAccessKeyId": secret}, clock=lambda: moment)


def test_the_published_example_passes():
    assert vector_verifier().verify("POST", VECTOR_QUERY, vector_headers(), b"") == "YourAccessKeyId"


def _flip(text: str, index: int) -> str:
    return text[:index] + chr(ord(text[index]) ^ 0x01) + text[index + 1 :]


@pytest.mark.parametrize("where", ["signature", "secret", "query", "host", "action", "nonce", "version", "method"])
def test_a_one_byte_change_of_the_example_is_refused(where):
    headers, query, method, secret = vector_headers(), VECTOR_QUERY, "POST", "YourAccessKeySecret"
    if where == "signature":
        headers = vector_headers(_flip(VECTOR_SIGNATURE, 10).replace("g", "f"))
    elif where == "secret":
        secret = _flip(secret, 0)
    elif where == "query":
        query = query.replace("cn-shanghai", "cn-shanghaj")
    elif where == "method":
        method = "GET"
    else:
        name = {"host": "host", "action": "x-acs-action", "nonce": "x-acs-signature-nonce", "version": "x-acs-version"}
        headers[name[where]] = _flip(headers[name[where]], 3)
    with pytest.raises(AcsError) as caught:
        vector_verifier(secret).verify(method, query, headers, b"")
    assert caught.value.code == "SignatureDoesNotMatch" and caught.value.status == 400
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in caught.value.message


def test_a_body_the_signature_does_not_cover_is_refused():
    with pytest.raises(AcsError) as caught:
        vector_verifier().verify("POST", VECTOR_QUERY, vector_headers(), b"x")
    assert caught.value.code == "SignatureDoesNotMatch"


def test_a_reused_nonce_and_a_stale_date_are_refused():
    verifier = vector_verifier()
    verifier.verify("POST", VECTOR_QUERY, vector_headers(), b"")
    with pytest.raises(AcsError) as caught:
        verifier.verify("POST", VECTOR_QUERY, vector_headers(), b"")
    assert caught.value.code == "SignatureNonceUsed"
    late = Verifier({"YourAccessKeyId": "YourAccessKeySecret"}, clock=time.time)
    with pytest.raises(AcsError) as caught:
        late.verify("POST", VECTOR_QUERY, vector_headers(), b"")
    assert caught.value.code == "InvalidTimeStamp.Expired"


def test_an_unsigned_x_acs_header_is_refused():
    headers = vector_headers()
    headers["x-acs-extra"] = "1"
    with pytest.raises(AcsError) as caught:
        vector_verifier().verify("POST", VECTOR_QUERY, headers, b"")
    assert caught.value.code == "IncompleteSignature" and "x-acs-extra" in caught.value.message


# ---- over HTTP ---------------------------------------------------------------------------------------------
@pytest.fixture
def ali() -> Iterator[AliDnsEmulator]:
    with AliDnsEmulator() as emulator:
        emulator.add_domain("example.test")
        yield emulator


def call(
    ali: AliDnsEmulator,
    action: str,
    params: dict[str, str],
    key_id: str | None = None,
    secret: str | None = None,
    date: str | None = None,
    nonce: str | None = None,
    tamper=None,
) -> tuple[int, dict]:
    """One signed POST with the parameters in the query; `tamper(headers, query)` changes the request
    after signing."""
    host = ali.http_url.split("://", 1)[1]
    credentials = Credentials(key_id or ali.key_id, secret or ali.key_secret)
    query = sorted(params.items())
    signed = acs3_sign(credentials, method="POST", host=host, action=action, version="2015-01-09", query=query,
                       date=date, nonce=nonce)  # fmt: skip
    headers = dict(signed.headers)
    text = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    if tamper:
        text = tamper(headers, text) or text
    request = urllib.request.Request(f"{ali.http_url}/?{text}", data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.startswith(b"{") else {"html": raw.decode()}


def test_a_good_request_and_each_kind_of_bad_one(ali):
    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test"})
    assert status == 200 and body["TotalCount"] == 0 and body["RequestId"]
    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test"}, key_id="LTAInobody")
    assert (status, body["Code"]) == (404, "InvalidAccessKeyId.NotFound")
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test"}, secret="wrong-secret")
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 16 * 60))
    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test"}, date=old)
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")
    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test"}, date="yesterday")
    assert body["Code"] == "InvalidTimeStamp.Format"

    def changed_header(headers, query):
        headers["x-acs-action"] = "DescribeSubDomainRecords"

    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test"}, tamper=changed_header)
    assert body["Code"] == "SignatureDoesNotMatch"
    status, body = call(ali, "AddDomainRecord", {"DomainName": "example.test", "RR": "a", "Type": "A",
                        "Value": "192.0.2.1"}, tamper=lambda h, q: q.replace("192.0.2.1", "192.0.2.9"))  # fmt: skip
    assert body["Code"] == "SignatureDoesNotMatch" and ali.records("example.test") == []
    call(ali, "DescribeDomainRecords", {"DomainName": "example.test"}, nonce="n-1")
    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test"}, nonce="n-1")
    assert body["Code"] == "SignatureNonceUsed"


def test_a_changed_body_is_refused(ali):
    host = ali.http_url.split("://", 1)[1]
    body = b"DomainName=example.test"
    form = "application/x-www-form-urlencoded"
    signed = acs3_sign(Credentials(ali.key_id, ali.key_secret), method="POST", host=host,
                       action="DescribeDomainRecords", version="2015-01-09", body=body, content_type=form)  # fmt: skip
    for data, code in ((body, 200), (b"DomainName=example.tesu", 400)):
        request = urllib.request.Request(ali.http_url + "/", data=data, method="POST", headers=signed.headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            assert json.loads(exc.read())["Code"] == "SignatureDoesNotMatch"
        assert status == code
        signed = acs3_sign(Credentials(ali.key_id, ali.key_secret), method="POST", host=host,
                           action="DescribeDomainRecords", version="2015-01-09", body=body,
                           content_type=form)  # fmt: skip


def test_records_page_newest_first_with_stable_ids_and_the_api_rules(ali):
    ids = [ali.add_record("example.test", f"h{i}", "A", f"192.0.2.{i}")["RecordId"] for i in range(1, 8)]
    pages = [call(ali, "DescribeDomainRecords", {"DomainName": "example.test", "PageSize": "3",
                                                 "PageNumber": str(n)})[1] for n in (1, 2, 3)]  # fmt: skip
    seen = [r["RecordId"] for page in pages for r in page["DomainRecords"]["Record"]]
    assert seen == list(reversed(ids)) and {p["TotalCount"] for p in pages} == {7}
    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test", "PageSize": "501"})
    assert status == 400
    status, body = call(ali, "AddDomainRecord", {"DomainName": "example.test", "RR": "h1", "Type": "A",
                                                 "Value": "192.0.2.1"})  # fmt: skip
    assert (status, body["Code"], body["Message"]) == (400, "DomainRecordDuplicate", "The DNS record already exists.")
    update = {"RecordId": ids[0], "RR": "h1", "Type": "A", "Value": "192.0.2.1", "TTL": "600", "Line": "default"}
    assert call(ali, "UpdateDomainRecord", update)[1]["Code"] == "DomainRecordDuplicate"
    status, body = call(ali, "UpdateDomainRecord", {**update, "Value": "192.0.2.100"})
    assert status == 200 and body["RecordId"] == ids[0]
    assert call(ali, "UpdateDomainRecordRemark", {"RecordId": ids[0], "Remark": "office"})[0] == 200
    assert call(ali, "DeleteDomainRecord", {"RecordId": "42"})[1]["Code"] == "DomainRecordNotBelongToUser"
    assert call(ali, "AddDomainRecord", {"DomainName": "example.test", "RR": "h1", "Type": "CNAME",
                                         "Value": "x.example.net"})[1]["Code"] == "DomainRecordConflict"  # fmt: skip
    assert call(ali, "DescribeDomainRecords", {"DomainName": "other.test"})[1]["Code"] == "IncorrectDomainUser"
    h1 = next(r for r in ali.records("example.test") if r["RecordId"] == ids[0])
    assert (h1["Value"], h1["Remark"]) == ("192.0.2.100", "office")


def test_injected_faults(ali):
    ali.inject(kind="code", code="Throttling.User", action="DescribeDomainRecords", times=2)
    ali.inject(kind="code", code="Throttling", status=200, action="AddDomainRecord")
    assert call(ali, "DescribeDomainRecords", {"DomainName": "example.test"})[1]["Code"] == "Throttling.User"
    assert call(ali, "DescribeDomainRecords", {"DomainName": "example.test"})[0] == 400
    assert call(ali, "DescribeDomainRecords", {"DomainName": "example.test"})[0] == 200
    status, body = call(ali, "AddDomainRecord", {"DomainName": "example.test", "RR": "a", "Type": "A",
                                                 "Value": "192.0.2.1"})  # fmt: skip
    assert (status, body["Code"]) == (200, "Throttling") and ali.records("example.test") == []
    ali.inject(kind="drop", action="AddDomainRecord", after=True)
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        call(ali, "AddDomainRecord", {"DomainName": "example.test", "RR": "a", "Type": "A", "Value": "192.0.2.1"})
    assert len(ali.records("example.test")) == 1  # processed, then the answer was lost
    ali.inject(kind="status", status=503)
    status, body = call(ali, "DescribeDomainRecords", {"DomainName": "example.test"})
    assert status == 503 and "Service Unavailable" in body["html"]
