"""The Cloudflare emulator itself, spoken to with plain HTTP requests: the facts of the documented
API v4 (envelope, auth, paging, batch, rate limit) it must reproduce for the provider tests to mean
anything."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from emulators.cloudflare import CloudflareEmulator

KEY = "0123456789abcdef0123456789abcdef01234"


@pytest.fixture
def cf() -> Iterator[CloudflareEmulator]:
    with CloudflareEmulator() as emulator:
        emulator.zone = emulator.add_zone("example.test")
        emulator.add_global_key("ops@example.test", KEY)
        yield emulator


def call(cf: CloudflareEmulator, method: str, path: str, headers: dict | None = None, **kwargs) -> requests.Response:
    auth = {"Authorization": f"Bearer {cf.token}"} if headers is None else headers
    return requests.request(method, cf.http_url + path, headers=auth, timeout=10, **kwargs)


def records_path(cf: CloudflareEmulator) -> str:
    return f"/zones/{cf.zone.id}/dns_records"


def first_error(response: requests.Response) -> dict:
    body = response.json()
    assert body["success"] is False and body["result"] is None and body["messages"] == []
    return body["errors"][0]


def test_envelope_and_result_info(cf):
    for i in range(7):
        cf.add_record(cf.zone, name=f"h{i}", type="A", content=f"192.0.2.{i}")
    body = call(cf, "GET", records_path(cf), params={"per_page": 3, "page": 3}).json()
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    assert body["result_info"] == {"page": 3, "per_page": 3, "count": 1, "total_count": 7, "total_pages": 3}
    record = body["result"][0]
    assert len(record["id"]) == 32 and record["name"].endswith(".example.test") and record["ttl"] == 1
    assert record["proxied"] is False


@pytest.mark.parametrize(
    ("path", "per_page"),
    [("/zones", 51), ("/zones", 4), ("/zones/{zone}/dns_records", 0), ("/zones/{zone}/dns_records", 5_000_001)],
)
def test_per_page_limits(cf, path, per_page):
    response = call(cf, "GET", path.format(zone=cf.zone.id), params={"per_page": per_page})
    assert response.status_code == 400 and "per_page" in first_error(response)["message"]


def test_auth_is_strict(cf):
    zones = "/zones"
    cases = [
        ({}, 400, 9106),
        ({"X-Auth-Email": "ops@example.test"}, 400, 9106),
        ({"X-Auth-Email": "ops@example.test", "X-Auth-Key": cf.token}, 400, 6003),  # a token as key
        ({"X-Auth-Email": "not-an-email", "X-Auth-Key": KEY}, 400, 6003),
        ({"X-Auth-Email": "ops@example.test", "X-Auth-Key": KEY.replace("0", "f")}, 403, 9103),
        ({"Authorization": "Bearer unknown-token"}, 401, 9109),
        ({"Authorization": cf.token}, 400, 6003),
    ]
    for headers, status, code in cases:
        response = call(cf, "GET", zones, headers=headers)
        assert (response.status_code, first_error(response)["code"]) == (status, code), headers
    chain = first_error(call(cf, "GET", zones, headers=cases[2][0]))["error_chain"]
    assert chain == [{"code": 6103, "message": "Invalid format for X-Auth-Key header"}]
    assert call(cf, "GET", zones, headers={"X-Auth-Email": "ops@example.test", "X-Auth-Key": KEY}).ok
    cf.add_token("other-zone-token-0123456789abcdefghijklm", zones={"0" * 32})
    denied = call(
        cf, "GET", records_path(cf), headers={"Authorization": "Bearer other-zone-token-0123456789abcdefghijklm"}
    )
    assert (denied.status_code, first_error(denied)["code"]) == (403, 10000)


def test_record_errors(cf):
    made = call(cf, "POST", records_path(cf), json={"name": "www", "type": "A", "content": "192.0.2.1", "ttl": 300})
    assert made.ok and made.json()["result"]["name"] == "www.example.test"
    again = call(cf, "POST", records_path(cf), json={"name": "www", "type": "A", "content": "192.0.2.1", "ttl": 300})
    assert first_error(again) == {"code": 81058, "message": "An identical record already exists."}
    other_ttl = call(
        cf, "POST", records_path(cf), json={"name": "www", "type": "A", "content": "192.0.2.1", "ttl": 600}
    )
    assert first_error(other_ttl)["code"] == 81057
    missing = call(cf, "PATCH", records_path(cf) + "/" + "a" * 32, json={"content": "192.0.2.2"})
    assert first_error(missing) == {"code": 81044, "message": "Record does not exist."}
    malformed = call(cf, "DELETE", records_path(cf) + "/not-an-id")
    assert first_error(malformed)["code"] == 7003 and first_error(malformed)["error_chain"][0]["code"] == 7000
    cname = call(cf, "POST", records_path(cf), json={"name": "www", "type": "CNAME", "content": "example.net"})
    assert first_error(cname)["code"] == 81053
    bad_ip = call(cf, "POST", records_path(cf), json={"name": "x", "type": "A", "content": "192.0.2.256"})
    assert "IPv4" in first_error(bad_ip)["message"]
    bad_ttl = call(cf, "POST", records_path(cf), json={"name": "x", "type": "A", "content": "192.0.2.9", "ttl": 30})
    assert bad_ttl.status_code == 400
    no_priority = call(cf, "POST", records_path(cf), json={"name": "@", "type": "MX", "content": "mail.example.test"})
    assert no_priority.status_code == 400


def test_patch_merges_put_replaces_delete_returns_the_id(cf):
    record = cf.add_record(cf.zone, name="www", type="A", content="192.0.2.1", ttl=300, comment="c", tags=["a:b"])
    path = f"{records_path(cf)}/{record['id']}"
    patched = call(cf, "PATCH", path, json={"content": "192.0.2.2"}).json()["result"]
    assert (patched["content"], patched["ttl"], patched["comment"], patched["tags"]) == ("192.0.2.2", 300, "c", ["a:b"])
    put = call(cf, "PUT", path, json={"name": "www", "type": "A", "content": "192.0.2.3"}).json()["result"]
    assert (put["content"], put["ttl"], put["comment"], put["tags"], put["id"]) == (
        "192.0.2.3",
        1,
        None,
        [],
        record["id"],
    )
    assert call(cf, "DELETE", path).json()["result"] == {"id": record["id"]}
    assert cf.records(cf.zone) == []


def test_batch_runs_deletes_then_patches_then_puts_then_posts(cf):
    old = cf.add_record(cf.zone, name="www", type="A", content="192.0.2.1", ttl=300)
    body = {  # the post would be identical to the record being deleted: fine only because deletes go first
        "posts": [{"name": "www", "type": "A", "content": "192.0.2.1", "ttl": 300}],
        "deletes": [{"id": old["id"]}],
    }
    result = call(cf, "POST", records_path(cf) + "/batch", json=body).json()["result"]
    assert [r["id"] for r in result["deletes"]] == [old["id"]] and len(result["posts"]) == 1
    assert [r["content"] for r in cf.records(cf.zone)] == ["192.0.2.1"]


def test_a_failing_batch_changes_nothing_and_points_at_the_operation(cf):
    keep = cf.add_record(cf.zone, name="keep", type="A", content="192.0.2.1")
    edit = cf.add_record(cf.zone, name="edit", type="A", content="192.0.2.2")
    before = cf.records(cf.zone)
    body = {
        "deletes": [{"id": keep["id"]}],
        "patches": [{"id": edit["id"], "content": "192.0.2.3"}],
        "posts": [{"name": "new", "type": "A", "content": "192.0.2.4"}, {"name": "bad", "type": "A", "content": "x"}],
    }
    response = call(cf, "POST", records_path(cf) + "/batch", json=body)
    assert response.status_code == 400 and first_error(response)["source"] == {"pointer": "/posts/1"}
    assert cf.records(cf.zone) == before


def test_batch_size_follows_the_plan(cf):
    posts = [{"name": f"h{i}", "type": "A", "content": f"192.0.2.{i % 250}"} for i in range(201)]
    assert call(cf, "POST", records_path(cf) + "/batch", json={"posts": posts}).status_code == 400
    pro = cf.add_zone("pro.test", plan="pro")
    assert call(cf, "POST", f"/zones/{pro.id}/dns_records/batch", json={"posts": posts}).ok
    assert cf.records(cf.zone) == [] and len(cf.records(pro)) == 201


def test_rate_limit_blocks_then_lets_through(cf):
    cf.rate.limit, cf.rate.block = 3, 1
    statuses = [call(cf, "GET", "/zones").status_code for _attempt in range(4)]
    assert statuses == [200, 200, 200, 429]
    blocked = call(cf, "GET", "/zones")
    assert blocked.headers["retry-after"] == "1" and first_error(blocked)["code"] == 971
    time.sleep(1.1)
    assert call(cf, "GET", "/zones").ok
    assert cf.counts["rate_limited"] == 2


def test_faults_and_counters(cf):
    cf.inject(endpoint="zones.list", status=503)
    cf.inject(endpoint="zones.list", kind="drop")
    assert call(cf, "GET", "/zones").status_code == 503
    with pytest.raises(requests.ConnectionError):
        call(cf, "GET", "/zones")
    assert call(cf, "GET", "/zones", params={"name": "example.test"}).json()["result"][0]["id"] == cf.zone.id
    assert call(cf, "GET", "/zones/?name=example.test").ok  # ddclient's trailing slash
    assert cf.counts["zones.list"] == 4 and cf.counts["total"] == 4
    assert all("Authorization" not in str(entry) and cf.token not in str(entry) for entry in cf.requests)


def test_the_emulator_as_its_own_process(tmp_path):
    from emulators.launch import CloudflareProcess

    with CloudflareProcess(tmp_path / "tls", rate_limit=False) as cf:
        zone_id = cf.add_zone("example.test", records=[{"name": "www", "type": "A", "content": "192.0.2.1"}])
        cf.inject(endpoint="dns_records.list", status=502)
        url = f"{cf.https_url}/zones/{zone_id}/dns_records"
        headers = {"Authorization": f"Bearer {cf.token}"}
        assert requests.get(url, headers=headers, verify=cf.ca_file, timeout=10).status_code == 502
        body = requests.get(url, headers=headers, verify=cf.ca_file, timeout=10).json()
        assert [r["content"] for r in body["result"]] == ["192.0.2.1"]
        assert cf.stats() == {"dns_records.list": 2, "total": 2}
        assert [r["name"] for r in cf.records(zone_id)] == ["www.example.test"]
