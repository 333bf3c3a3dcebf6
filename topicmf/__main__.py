"""``python -m topicmf`` runs the command line."""

import sys

from .cli import main

if __name__ == "__main__":  # worker processes that re-import the main module must not run it
    sys.exit(main())
