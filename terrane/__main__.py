"""``python -m terrane``: the CLI."""

import sys

from terrane.engine.cli import entry

sys.exit(entry())
