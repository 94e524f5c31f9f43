"""`python -m gradviz` runs the command line (the app by default)."""

from gradviz.launch import run

run()
