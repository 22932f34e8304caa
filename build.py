"""Build the report: ``python build.py [SECTION ...] [options]``; see ``--help``."""
import sys

from report.cli import main

if __name__ == "__main__":
    sys.exit(main())
