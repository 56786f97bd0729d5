"""fleetdns.ddns.public_ip_info through a real ansible-playbook, against echo servers and a DNS
responder on loopback that agree or disagree."""

from __future__ import annotations

import json

from ansible_collections.fleetdns.ddns.tests.unit.plugins.module_utils.public_ip_fakes import (
    DnsBehaviour,
    DnsResponder,
    EchoServer,
)

from integration.playbook_runner import run_playbook

TASKS = """\
    - name: Find the public address
      fleetdns.ddns.public_ip_info:
        sources: "{{ sources }}"
        timeout: 2
      register: public
    - name: Save the result for the test
      ansible.builtin.copy:
        content: "{{ {'public': public} | to_json }}"
        dest: "{{ results_file }}"
        mode: "0600"
      changed_when: false
      check_mode: false
"""


def sources_for(servers: list, web_a: str, web_b: str, dns_answer: str) -> str:
    echo_a, echo_b = EchoServer(web_a), EchoServer(web_b)
    resolver = DnsResponder(DnsBehaviour(values=[dns_answer], rtype="TXT"))
    servers.extend([echo_a, echo_b, resolver])
    sources = [
        {"name": "echo-a", "type": "http", "url": echo_a.url, "families": ["ipv4"]},
        {"name": "echo-b", "type": "http", "url": echo_b.url, "families": ["ipv4"]},
        {
            "name": "txt",
            "type": "dns",
            "server": "127.0.0.1",
            "port": resolver.port,
            "qname": "o-o.myaddr.test",
            "qtype": "TXT",
            "families": ["ipv4"],
        },
    ]
    return json.dumps({"sources": sources})


def test_agreeing_sources_in_check_mode_and_for_real(tmp_path, servers) -> None:
    extra = sources_for(servers, "203.0.113.7\n", "203.0.113.7", "203.0.113.7")
    for mode in ([], ["--check"]):
        run = run_playbook(tmp_path, TASKS, "-e", extra, *mode, name=f"agree{len(mode)}")
        assert run.returncode == 0, run.output
        assert run.recap["changed"] == 0
        public = run.results()["public"]
        assert (public["ipv4"], public["ipv6"]) == ("203.0.113.7", None)
        assert [s["name"] for s in public["sources"]] == ["echo-a", "echo-b", "txt"]


def test_disagreeing_sources_fail_the_task_naming_each_answer(tmp_path, servers) -> None:
    extra = sources_for(servers, "203.0.113.7", "198.51.100.9", "not-an-address")
    run = run_playbook(tmp_path, TASKS, "-e", extra, name="disagree")
    assert run.returncode != 0
    assert run.recap["failed"] == 1
    assert "the sources do not agree on the public IPv4 address (need 2 of 3 to agree)" in run.output
    assert "echo-a: 203.0.113.7; echo-b: 198.51.100.9; txt: no answer" in run.output
    assert "Traceback" not in run.output
