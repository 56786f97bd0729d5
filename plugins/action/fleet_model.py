# Copyright: fleetdns maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Computes the fleet model on the controller from the inventory the play sees (hostvars)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.fleetdns.ddns.plugins.module_utils.bind_server import (
    ServerSettings,
    glue_address,
    server_model,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.client_files import (
    RUN_MODES,
    ClientSettings,
    agent_run_mode,
    device_files,
    needs_device_key,
)
from ansible_collections.fleetdns.ddns.plugins.module_utils.config import GLOBAL_VARS, HOST_VARS
from ansible_collections.fleetdns.ddns.plugins.module_utils.engine import select_zones
from ansible_collections.fleetdns.ddns.plugins.module_utils.errors import FleetDNSError
from ansible_collections.fleetdns.ddns.plugins.module_utils.fleet import Client, FleetModel, build_fleet
from ansible_collections.fleetdns.ddns.plugins.module_utils.tsig import TsigKey, TsigKeyError, read_key_file

SERVER_OPTIONS = {
    "zones": {"type": "list", "elements": "str"},
    "addresses": {"type": "list", "elements": "str", "default": []},
    "port": {"type": "int", "default": 53},
    "clients": {"type": "list", "elements": "str", "default": []},
    "tsig_algorithm": {"type": "str", "default": "hmac-sha256"},
    "zone_options": {"type": "dict", "default": {}},
    "nameservers": {"type": "list", "elements": "str", "default": []},
    "nameserver_address": {"type": "str", "default": ""},
    "soa_contact": {"type": "str", "default": "hostmaster"},
    "soa_refresh": {"type": "int", "default": 3600},
    "soa_retry": {"type": "int", "default": 900},
    "soa_expire": {"type": "int", "default": 1209600},
    "soa_negative_ttl": {"type": "int", "default": 300},
    "zone_dir": {"type": "path", "default": "/var/lib/bind"},
}
CLIENT_OPTIONS = {
    "keys_dir": {"type": "path", "required": True},
    "detect": {"type": "dict", "default": {}},
    "static_ipv4": {"type": "str", "default": ""},
    "static_ipv6": {"type": "str", "default": ""},
    "allow_non_global": {"type": "bool", "default": False},
    "ttl": {"type": "int"},
    "agent_options": {"type": "dict", "default": {}},
    "state_file": {"type": "str", "default": "/var/lib/fleetdns/agent.state.json"},
    "ddclient_key_file": {"type": "str", "default": "/etc/ddclient/fleetdns.key"},
    "ddclient_interface": {"type": "str", "default": ""},
    "ddclient_daemon": {"type": "int", "default": 300},
    # Not settings of the files: how the agent runs (service, timer, or cron without systemd).
    "mode": {"type": "str", "default": "service", "choices": list(RUN_MODES)},
    "service_mgr": {"type": "str", "default": ""},
}
RUN_OPTIONS = ("keys_dir", "mode", "service_mgr")
ARGUMENT_SPEC = {
    "server": {"type": "dict", "options": SERVER_OPTIONS},
    "client": {"type": "dict", "options": CLIENT_OPTIONS},
    "zones": {"type": "list", "elements": "str"},
}


class ActionModule(ActionBase):
    """Reads the fleetdns variables of every host (templated, as the play sees them), builds the
    model with module_utils.fleet and returns it; nothing runs on the target and nothing secret is
    returned."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _unused, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        task_vars = task_vars or {}
        server = args.get("server")
        try:
            # The bind_server role makes an admin key the inventory gives no secret; a device never
            # uses an admin key, so for the client role too such a provider is fine.
            makes_keys = server is not None or args.get("client") is not None
            fleet = build_fleet(*self._inventory(task_vars), make_missing_keys=makes_keys)
            zones = select_zones(fleet.config, args.get("zones"))
        except FleetDNSError as exc:
            raise AnsibleActionFail(str(exc)) from None
        host = task_vars.get("inventory_hostname", "")
        client = fleet.clients.get(host)
        result.update(
            changed=False,
            owner=fleet.config.owner,
            zones=[fleet.zone_dict(zone) for zone in zones],
            client=client.to_dict() if client else None,
            problems=[str(problem) for problem in fleet.problems],
        )
        if server is not None:
            model, problems = server_model(fleet, self._server_settings(host, server, task_vars))
            problems = fleet.problems + problems
            if problems:
                raise AnsibleActionFail("\n".join(str(problem) for problem in problems))
            result["server"] = model
        if args.get("client") is not None and client is not None:
            result["client_files"] = self._client_files(fleet, client, args["client"])
            result["client_mode"] = agent_run_mode(args["client"]["mode"], args["client"]["service_mgr"])
            # The files carry the device's key and the provider credentials.
            result["_ansible_no_log"] = True
        return result

    def _client_files(self, fleet: FleetModel, client: Client, options: dict[str, Any]) -> dict[str, Any]:
        """The device's agent files (client role), with the device's key read from the controller."""
        key = _device_key(options["keys_dir"], client) if needs_device_key(client) else None
        settings = ClientSettings(**{name: value for name, value in options.items() if name not in RUN_OPTIONS})
        files = device_files(fleet, client, settings, key)
        problems = fleet.problems + files.problems
        if problems:
            raise AnsibleActionFail("\n".join(str(problem) for problem in problems))
        return {
            "agent_config": files.agent_config,
            "ddclient_conf": files.ddclient_conf,
            "ddclient_key": files.ddclient_key,
        }

    def _inventory(self, task_vars: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The variables of `all` and of each host that fleetdns reads, templated."""
        all_vars = {name: self._templar.template(task_vars[name]) for name in GLOBAL_VARS if name in task_vars}
        hostvars = task_vars.get("hostvars") or {}
        hosts = {}
        for host in (task_vars.get("groups") or {}).get("all", []):
            variables = hostvars.get(host, {})
            hosts[host] = {name: variables[name] for name in HOST_VARS if name in variables}
        return all_vars, hosts

    def _server_settings(self, host: str, server: dict[str, Any], task_vars: dict[str, Any]) -> ServerSettings:
        """The role's settings plus what identifies this host: ansible_host and its addresses from facts."""
        facts = task_vars.get("ansible_facts") or {}
        ansible_host = self._templar.template(task_vars.get("ansible_host", host))
        identities = [str(ansible_host), *server["addresses"]]
        identities += [*(facts.get("all_ipv4_addresses") or []), *(facts.get("all_ipv6_addresses") or [])]
        default_ipv4 = (facts.get("default_ipv4") or {}).get("address", "")
        options = {key: value for key, value in server.items() if key != "addresses"}
        options["nameserver_address"] = glue_address(server["nameserver_address"], ansible_host, default_ipv4)
        return ServerSettings(host=host, identities=identities, **options)


def _device_key(keys_dir: str, client: Client) -> TsigKey | None:
    """The device's key file made by the bind_server role (None when there is none yet)."""
    path = f"{keys_dir.rstrip('/')}/{client.key_name}.key"
    try:
        key = read_key_file(path)
    except TsigKeyError as exc:
        raise AnsibleActionFail(f"host {client.host}: {exc}") from None
    if key is not None and not key.same_identity(client.key_name, key.algorithm):
        raise AnsibleActionFail(
            f"host {client.host}: {path} holds the key '{key.name}', not '{client.key_name}'; "
            "let the bind_server role make the device keys"
        )
    return key
