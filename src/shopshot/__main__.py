"""`python -m shopshot` runs the command line."""

import sys

from shopshot.cli import main

sys.exit(main())
