"""Request signing against the providers' published worked examples, byte for byte, and the property
a signature exists for: any one-byte change of what it covers changes it."""

from __future__ import annotations

import dataclasses

import pytest
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers import signing
from ansible_collections.fleetdns.ddns.plugins.module_utils.providers.signing import (
    Credentials,
    acs3_sign,
    percent_encode,
    rpc_v1_sign,
    tc3_sign,
)

# Tencent Cloud "Signature v3" worked example (CVM DescribeInstances).
TC3_CREDENTIALS = Credentials("AKID**********************0123456789EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE")
TC3_BODY = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
TC3_ARGS = {
    "service": "cvm",
    "host": "cvm.tencentcloudapi.com",
    "action": "DescribeInstances",
    "version": "2017-03-12",
    "body": TC3_BODY,
    "timestamp": 1551113065,
    "region": "ap-guangzhou",
}
TC3_SIGNATURE = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"

# Alibaba Cloud "V3 request structure and signature" worked example (ECS RunInstances).
ACS3_CREDENTIALS = Credentials("YourAccessKeyId", "YourAccessKeySecret")
ACS3_ARGS = {
    "method": "POST",
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "action": "RunInstances",
    "version": "2014-05-26",
    "query": [("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), ("RegionId", "cn-shanghai")],
    "body": b"",
    "date": "2023-10-26T10:22:32Z",
    "nonce": "3156853299f313e23d1673dc12e1703d",
}
ACS3_SIGNATURE = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"

# Alibaba Cloud "Request signature" worked example (ECS DescribeRegions, signature version 1.0).
V1_CREDENTIALS = Credentials("testid", "testsecret")
V1_PARAMS = {"Action": "DescribeRegions", "Format": "XML", "Version": "2014-05-26"}
V1_ARGS = {"timestamp": "2016-02-23T12:46:24Z", "nonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"}


def test_tc3_reproduces_the_official_example():
    signed = tc3_sign(TC3_CREDENTIALS, **TC3_ARGS)
    assert signed.canonical_request == (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
        "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    assert signed.string_to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    assert signed.headers == {
        "Authorization": "TC3-HMAC-SHA256 Credential=AKID**********************0123456789EXAMPLE/2019-02-25/cvm/"
        f"tc3_request, SignedHeaders=content-type;host, Signature={TC3_SIGNATURE}",
        "Content-Type": "application/json; charset=utf-8",
        "Host": "cvm.tencentcloudapi.com",
        "X-TC-Action": "DescribeInstances",
        "X-TC-Version": "2017-03-12",
        "X-TC-Timestamp": "1551113065",
        "X-TC-Region": "ap-guangzhou",
    }


def test_tc3_scope_date_is_the_utc_date_of_the_timestamp():
    # 23:59:59 UTC is already the next morning in UTC+8: the scope must follow UTC.
    assert (
        "\n2019-02-25/cvm/tc3_request\n"
        in tc3_sign(TC3_CREDENTIALS, **{**TC3_ARGS, "timestamp": 1551139199}).string_to_sign
    )
    assert (
        "\n2019-02-26/cvm/tc3_request\n"
        in tc3_sign(TC3_CREDENTIALS, **{**TC3_ARGS, "timestamp": 1551139200}).string_to_sign
    )


def test_tc3_signs_header_values_lower_cased():
    # Tencent Cloud lower-cases names and values of the signed headers; capitals in an endpoint must not
    # change the signature (the Host header itself is sent as given).
    upper = tc3_sign(TC3_CREDENTIALS, **{**TC3_ARGS, "host": "CVM.TencentCloudAPI.com"})
    assert upper.headers["Authorization"].endswith(f"Signature={TC3_SIGNATURE}")
    assert upper.headers["Host"] == "CVM.TencentCloudAPI.com"


def test_acs3_reproduces_the_official_example():
    signed = acs3_sign(ACS3_CREDENTIALS, **ACS3_ARGS)
    assert signed.canonical_request == (
        "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n"
        "host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\n"
        "x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\n"
        "x-acs-version:2014-05-26\n\n"
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert signed.string_to_sign == "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    assert signed.headers["Authorization"] == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
        f"x-acs-date;x-acs-signature-nonce;x-acs-version,Signature={ACS3_SIGNATURE}"
    )
    assert signed.headers["x-acs-content-sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_acs3_signs_the_content_type_when_there_is_a_body():
    signed = acs3_sign(
        ACS3_CREDENTIALS, **{**ACS3_ARGS, "body": b"a=1", "content_type": "application/x-www-form-urlencoded"}
    )
    assert "content-type:application/x-www-form-urlencoded\n" in signed.canonical_request
    assert "SignedHeaders=content-type;host;" in signed.headers["Authorization"]


@pytest.mark.parametrize(
    ("method", "signature"), [("GET", "OLeaidS1JvxuMvnyHOwuJ+uX5qY="), ("POST", "MxbnVAM4w6sft9xjVpe/GCKueuk=")]
)
def test_rpc_v1_reproduces_the_official_example_for_both_methods(method, signature):
    params = rpc_v1_sign(V1_CREDENTIALS, method=method, params=V1_PARAMS, **V1_ARGS)
    assert signing.rpc_v1_string_to_sign(method, params) == (
        f"{method}&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0"
        "%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    )
    assert params["Signature"] == signature
    assert params["AccessKeyId"] == "testid" and params["SignatureVersion"] == "1.0"


def test_rpc_v1_second_official_example():
    params = {"Action": "DescribeDedicatedHosts", "Format": "JSON", "RegionId": "cn-beijing", "Version": "2014-05-26"}
    signed = rpc_v1_sign(
        V1_CREDENTIALS, method="GET", params=params, timestamp="2023-03-13T08:34:30Z",
        nonce="edb2b34af0af9a6d14deaf7c1a5315eb",
    )  # fmt: skip
    assert signed["Signature"] == "9NaGiOspFP5UPcwX8Iwt2YJXXuk="


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [("a b", "a%20b"), ("a*b", "a%2Ab"), ("a~b", "a~b"), ("a+b", "a%2Bb"), ("中", "%E4%B8%AD"), ("/", "%2F"),
     ("2016-02-23T12:46:24Z", "2016-02-23T12%3A46%3A24Z")],
)  # fmt: skip
def test_percent_encoding(raw, encoded):
    assert percent_encode(raw) == encoded


def _one_byte_changes(value: str | bytes) -> list:
    """The value with its first, middle and last byte changed (one at a time)."""
    data = bytearray(value.encode() if isinstance(value, str) else value)
    changed = []
    for index in sorted({0, len(data) // 2, len(data) - 1}):
        copy = bytearray(data)
        copy[index] ^= 0x01
        changed.append(bytes(copy) if isinstance(value, bytes) else copy.decode("latin-1"))
    return changed


def _tc3_signature(credentials: Credentials, **args) -> str:
    return tc3_sign(credentials, **{**TC3_ARGS, **args}).headers["Authorization"].rsplit("Signature=", 1)[1]


@pytest.mark.parametrize("name", ["service", "host", "body", "content_type", "secret", "timestamp"])
def test_tc3_any_one_byte_change_changes_the_signature(name):
    base = _tc3_signature(TC3_CREDENTIALS)
    assert base == TC3_SIGNATURE
    if name == "secret":
        variants = [
            _tc3_signature(Credentials(TC3_CREDENTIALS.key_id, s)) for s in _one_byte_changes(TC3_CREDENTIALS.secret)
        ]
    elif name == "timestamp":
        variants = [_tc3_signature(TC3_CREDENTIALS, timestamp=1551113065 + 1)]
    else:
        start = TC3_ARGS.get(name, "application/json; charset=utf-8")
        variants = [_tc3_signature(TC3_CREDENTIALS, **{name: v}) for v in _one_byte_changes(start)]
    assert variants and all(v != base for v in variants)


def _acs3_signature(credentials: Credentials, **args) -> str:
    return acs3_sign(credentials, **{**ACS3_ARGS, **args}).headers["Authorization"].rsplit("Signature=", 1)[1]


@pytest.mark.parametrize("name", ["method", "host", "action", "version", "date", "nonce", "query", "body", "secret"])
def test_acs3_any_one_byte_change_changes_the_signature(name):
    base = _acs3_signature(ACS3_CREDENTIALS)
    assert base == ACS3_SIGNATURE
    if name == "secret":
        variants = [
            _acs3_signature(Credentials("YourAccessKeyId", s)) for s in _one_byte_changes("YourAccessKeySecret")
        ]
    elif name == "query":
        image = ACS3_ARGS["query"][0][1]
        variants = [_acs3_signature(ACS3_CREDENTIALS, query=[("ImageId", v), ("RegionId", "cn-shanghai")])
                    for v in _one_byte_changes(image)]  # fmt: skip
    elif name == "body":
        variants = [_acs3_signature(ACS3_CREDENTIALS, body=b"\x00"), _acs3_signature(ACS3_CREDENTIALS, body=b" ")]
    elif name == "method":
        variants = [_acs3_signature(ACS3_CREDENTIALS, method="GET")]
    else:
        variants = [_acs3_signature(ACS3_CREDENTIALS, **{name: v}) for v in _one_byte_changes(ACS3_ARGS[name])]
    assert variants and all(v != base for v in variants)


@pytest.mark.parametrize("name", ["Action", "Format", "Version", "timestamp", "nonce", "secret", "key_id"])
def test_rpc_v1_any_one_byte_change_changes_the_signature(name):
    base = rpc_v1_sign(V1_CREDENTIALS, method="GET", params=V1_PARAMS, **V1_ARGS)["Signature"]
    variants = []
    if name in V1_PARAMS:
        for value in _one_byte_changes(V1_PARAMS[name]):
            variants.append(rpc_v1_sign(V1_CREDENTIALS, method="GET", params={**V1_PARAMS, name: value}, **V1_ARGS))
    elif name in V1_ARGS:
        for value in _one_byte_changes(V1_ARGS[name]):
            variants.append(rpc_v1_sign(V1_CREDENTIALS, method="GET", params=V1_PARAMS, **{**V1_ARGS, name: value}))
    else:
        for value in _one_byte_changes(getattr(V1_CREDENTIALS, name)):
            credentials = dataclasses.replace(V1_CREDENTIALS, **{name: value})
            variants.append(rpc_v1_sign(credentials, method="GET", params=V1_PARAMS, **V1_ARGS))
    assert variants and all(v["Signature"] != base for v in variants)


def test_defaults_give_a_fresh_nonce_and_the_current_time():
    first = rpc_v1_sign(V1_CREDENTIALS, method="POST", params=V1_PARAMS)
    second = rpc_v1_sign(V1_CREDENTIALS, method="POST", params=V1_PARAMS)
    assert first["SignatureNonce"] != second["SignatureNonce"]
    assert first["Timestamp"].endswith("Z") and len(first["Timestamp"]) == 20
    headers = acs3_sign(ACS3_CREDENTIALS, **{**ACS3_ARGS, "date": None, "nonce": None}).headers
    assert len(headers["x-acs-signature-nonce"]) == 32 and headers["x-acs-date"].endswith("Z")


def test_secrets_never_show():
    for credentials in (TC3_CREDENTIALS, ACS3_CREDENTIALS, V1_CREDENTIALS):
        assert credentials.secret not in repr(credentials) and credentials.secret not in str(credentials)
    signed = [tc3_sign(TC3_CREDENTIALS, **TC3_ARGS), acs3_sign(ACS3_CREDENTIALS, **ACS3_ARGS)]
    for result in signed:
        assert TC3_CREDENTIALS.secret not in repr(result) and ACS3_CREDENTIALS.secret not in repr(result)
    assert "testsecret" not in repr(rpc_v1_sign(V1_CREDENTIALS, method="GET", params=V1_PARAMS, **V1_ARGS))
