"""`python -m fleetdns ...` runs the same command line as the `fleetdns` script."""

import sys

from .cli import main

sys.exit(main())
