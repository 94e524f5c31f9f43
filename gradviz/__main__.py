"""`python -m gradviz` runs the command line (the app by default)."""

import sys

from gradviz.cli import main

sys.exit(main())
