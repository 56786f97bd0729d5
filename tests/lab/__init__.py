"""Real components the tests start on loopback (BIND today). See lab/bind.py for the BIND lab API."""
