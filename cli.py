"""Run the dmz command line from a source checkout without installing: `python cli.py solve --model resnet18`."""

import sys

from dmz_solver.cli import main

if __name__ == "__main__":
    sys.exit(main())
