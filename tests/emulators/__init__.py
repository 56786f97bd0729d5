"""Faithful local emulators of the internet DNS APIs fleetdns talks to (see shared reference/provider-apis.md)."""
