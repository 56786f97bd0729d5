"""The fleetdns command line: validate, plan and apply DNS from an Ansible inventory."""
