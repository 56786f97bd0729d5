"""The DNSPod emulator is as strict as the service: its TC3 verifier accepts Tencent's published worked
example and refuses it after any one-byte change, and over HTTP every kind of bad signature gets the
real error code; the data rules (paging, stable ids, field spellings, the empty-list error) hold."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.signing import Credentials, tc3_sign

try:
    from emulators import tc3
    from emulators.dnspod import DnspodEmulator
except ImportError:  # under `ansible-test units` tests/ is part of the collection, not on sys.path
    from ansible_collections.fleetdns.ddns.tests.emulators import tc3
    from ansible_collections.fleetdns.ddns.tests.emulators.dnspod import DnspodEmulator

# Tencent Cloud's "Signature v3" worked example (CVM DescribeInstances).
VECTOR_ID, VECTOR_KEY = "AKID**********************0123456789EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
VECTOR_BODY = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
VECTOR_HEADERS = {
    "Authorization": f"TC3-HMAC-SHA256 Credential={VECTOR_ID}/2019-02-25/cvm/tc3_request, "
    "SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
    "Content-Type": "application/json; charset=utf-8",
    "Host": "cvm.tencentcloudapi.com",
    "X-TC-Action": "DescribeInstances",
    "X-TC-Timestamp": "1551113065",
    "X-TC-Version": "2017-03-12",
    "X-TC-Region": "ap-guangzhou",
}
VECTOR_NOW = 1551113065.0


def check(headers=None, body=VECTOR_BODY, now=VECTOR_NOW, keys=None, query=""):
    headers = VECTOR_HEADERS if headers is None else headers
    keys = {VECTOR_ID: VECTOR_KEY} if keys is None else keys
    return tc3.verify("POST", query, headers, body, keys.get, "cvm", now)


def code(result) -> str | None:
    return result[1].code if result[1] else None


def test_the_official_example_verifies():
    assert check() == (VECTOR_ID, None)


def test_any_one_byte_change_of_the_body_is_refused():
    for index in range(len(VECTOR_BODY)):
        changed = bytearray(VECTOR_BODY)
        changed[index] ^= 0x01
        assert code(check(body=bytes(changed))) == "AuthFailure.SignatureFailure", index


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Host", "cvm.tencentcloudapi.con"),
        ("Content-Type", "application/json; charset=utf-9"),
        ("Authorization", VECTOR_HEADERS["Authorization"][:-1] + "9"),
        ("Authorization", VECTOR_HEADERS["Authorization"].replace("2019-02-25", "2019-02-24")),
        ("Authorization", VECTOR_HEADERS["Authorization"].replace("/cvm/", "/cvn/")),
        ("Authorization", VECTOR_HEADERS["Authorization"].replace("tc3_request", "tc4_request")),
        ("Authorization", VECTOR_HEADERS["Authorization"].replace("content-type;host", "host")),
        ("X-TC-Timestamp", "1551113066"),
    ],
)
def test_a_changed_signed_header_or_scope_is_refused(header, value):
    assert code(check(headers={**VECTOR_HEADERS, header: value})) == "AuthFailure.SignatureFailure"


def test_unsigned_headers_may_change():
    assert code(check(headers={**VECTOR_HEADERS, "X-TC-Region": "ap-shanghai"})) is None


def test_wrong_key_unknown_id_skew_and_malformed_header():
    assert code(check(keys={VECTOR_ID: VECTOR_KEY[:-1] + "F"})) == "AuthFailure.SignatureFailure"
    assert code(check(keys={})) == "AuthFailure.SecretIdNotFound"
    assert code(check(now=VECTOR_NOW + 301)) == "AuthFailure.SignatureExpire"
    assert code(check(now=VECTOR_NOW - 301)) == "AuthFailure.SignatureExpire"
    assert code(check(now=VECTOR_NOW + 300)) is None
    assert code(check(headers={**VECTOR_HEADERS, "Authorization": "Bearer x"})) == "AuthFailure.InvalidAuthorization"
    no_auth = {k: v for k, v in VECTOR_HEADERS.items() if k != "Authorization"}
    assert code(check(headers=no_auth)) == "AuthFailure.SignatureFailure"


def test_the_fleetdns_signer_and_the_verifier_agree_on_the_vector():
    signed = tc3_sign(
        Credentials(VECTOR_ID, VECTOR_KEY),
        service="cvm",
        host="cvm.tencentcloudapi.com",
        action="DescribeInstances",
        version="2017-03-12",
        body=VECTOR_BODY,
        timestamp=1551113065,
        region="ap-guangzhou",
    )
    assert signed.headers == VECTOR_HEADERS
    assert check(headers=signed.headers) == (VECTOR_ID, None)


# ---- over HTTP -------------------------------------------------------------------------------------------
@pytest.fixture
def api() -> Iterator[DnspodEmulator]:
    with DnspodEmulator() as emulator:
        emulator.domain = emulator.add_domain("example.test")
        yield emulator


def call(api: DnspodEmulator, action: str, params: dict, key: str | None = None, timestamp: int | None = None,
         tamper: bool = False) -> dict:  # fmt: skip
    body = json.dumps(params).encode()
    signed = tc3_sign(
        Credentials(api.secret_id, key or api.secret_key),
        service="dnspod",
        host=api.http_url.split("://", 1)[1],
        action=action,
        version="2021-03-23",
        body=body,
        timestamp=timestamp,
        content_type="application/json",
    )
    if tamper:
        body = body.replace(b"example", b"exbmple")
    request = urllib.request.Request(api.http_url + "/", data=body, headers=signed.headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())["Response"]


def error(answer: dict) -> str | None:
    return answer.get("Error", {}).get("Code")


def test_every_request_is_verified(api):
    assert error(call(api, "DescribeRecordList", {"Domain": "example.test"})) is None
    assert error(call(api, "DescribeRecordList", {"Domain": "example.test"}, key="x" * 32)) == (
        "AuthFailure.SignatureFailure"
    )
    assert error(call(api, "DescribeRecordList", {"Domain": "example.test"}, tamper=True)) == (
        "AuthFailure.SignatureFailure"
    )
    assert error(call(api, "DescribeRecordList", {"Domain": "example.test"}, timestamp=1_000_000_000)) == (
        "AuthFailure.SignatureExpire"
    )
    assert "RequestId" in call(api, "NoSuchAction", {})
    assert error(call(api, "NoSuchAction", {})) == "InvalidAction"


def test_field_spellings_paging_stable_ids_and_the_empty_list(api):
    created = call(api, "CreateRecord", {"Domain": "example.test", "SubDomain": "www", "RecordType": "A",
                                         "RecordLine": "默认", "Value": "192.0.2.1", "TTL": 600})  # fmt: skip
    record_id = created["RecordId"]
    listed = call(api, "DescribeRecordList", {"Domain": "example.test", "Subdomain": "www"})
    assert [r["RecordId"] for r in listed["RecordList"]] == [record_id]
    assert listed["RecordCountInfo"]["TotalCount"] == 1
    changed = call(api, "ModifyDynamicDNS", {"Domain": "example.test", "RecordId": record_id,
                                             "RecordLine": "默认", "Value": "192.0.2.2", "Ttl": 1200})  # fmt: skip
    assert changed["RecordId"] == record_id
    (www,) = call(api, "DescribeRecordList", {"Domain": "example.test", "Subdomain": "www"})["RecordList"]
    assert (www["Value"], www["TTL"]) == ("192.0.2.2", 1200)
    # Create/ModifyRecord spell it SubDomain; the list filter Subdomain. A miss is an error, not [].
    missing = call(api, "DescribeRecordList", {"Domain": "example.test", "Subdomain": "nothing"})
    assert error(missing) == "ResourceNotFound.NoDataOfRecord"
    assert error(call(api, "DescribeRecordList", {"Domain": "example.test", "Limit": 3001})) == (
        "InvalidParameterValue.LimitInvalid"
    )
    for index in range(5):
        api.add_record(api.domain, SubDomain=f"h{index}", RecordType="A", Value=f"192.0.2.{10 + index}")
    pages = [call(api, "DescribeRecordList", {"Domain": "example.test", "Offset": o, "Limit": 3}) for o in (0, 3, 6)]
    ids = [r["RecordId"] for page in pages for r in page["RecordList"]]
    assert len(ids) == len(set(ids)) == 8 and ids == sorted(ids)  # 2 default NS + www + 5
    assert error(call(api, "DeleteRecord", {"Domain": "example.test", "RecordId": record_id})) is None
    assert error(call(api, "DeleteRecord", {"Domain": "example.test", "RecordId": record_id})) == (
        "InvalidParameter.RecordIdInvalid"
    )
    again = call(api, "CreateRecord", {"Domain": "example.test", "SubDomain": "www", "RecordType": "A",
                                       "RecordLine": "默认", "Value": "192.0.2.1"})  # fmt: skip
    assert again["RecordId"] > record_id  # ids are never reused


def test_data_rules(api):
    base = {"Domain": "example.test", "SubDomain": "x", "RecordLine": "默认"}
    assert error(call(api, "CreateRecord", {**base, "RecordType": "A", "Value": "300.1.1.1"})) == (
        "InvalidParameter.RecordValueInvalid"
    )
    assert error(call(api, "CreateRecord", {**base, "RecordType": "A", "Value": "192.0.2.1", "TTL": 60})) == (
        "LimitExceeded.RecordTtlLimit"
    )
    assert error(call(api, "CreateRecord", {**base, "RecordType": "A", "Value": "192.0.2.1", "RecordLine": "x"})) == (
        "InvalidParameter.RecordLineInvalid"
    )
    assert error(call(api, "CreateRecord", {**base, "RecordType": "MX", "Value": "mx.example.test."})) == (
        "InvalidParameter.MxInvalid"
    )
    assert error(
        call(api, "CreateRecord", {**base, "Domain": "other.test", "RecordType": "A", "Value": "192.0.2.1"})
    ) == ("InvalidParameterValue.DomainNotExists")
    assert error(call(api, "CreateRecord", {**base, "RecordType": "A", "Value": "192.0.2.1"})) is None
    assert error(call(api, "CreateRecord", {**base, "RecordType": "A", "Value": "192.0.2.1"})) == (
        "InvalidParameter.DomainRecordExist"
    )


def test_injected_throttling_arrives_in_a_200_body(api):
    api.inject(action="DescribeRecordList", times=2)
    assert error(call(api, "DescribeRecordList", {"Domain": "example.test"})) == "RequestLimitExceeded"
    assert error(call(api, "DescribeRecordList", {"Domain": "example.test"})) == "RequestLimitExceeded"
    assert error(call(api, "DescribeRecordList", {"Domain": "example.test"})) is None


def test_the_documented_rate_limit_of_modify_dynamic_dns(api):
    record = api.add_record(api.domain, SubDomain="gw", RecordType="A", Value="192.0.2.1")
    params = {"Domain": "example.test", "RecordId": record["RecordId"], "RecordLine": "默认", "Value": "192.0.2.2"}
    api.rate.clock = lambda: 1000.0  # every call inside the same second, however slow the machine
    answers = [error(call(api, "ModifyDynamicDNS", params)) for _call in range(25)]
    assert answers == [None] * 20 + ["RequestLimitExceeded"] * 5
    api.rate.clock = lambda: 1001.5  # a second later the window is free again
    assert error(call(api, "ModifyDynamicDNS", params)) is None
