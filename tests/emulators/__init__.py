"""Faithful local emulators of the internet DNS APIs fleetdns talks to."""
