"""`python -m bot.cli` runs the command line."""

import sys

from bot.cli.commands import main

sys.exit(main())
