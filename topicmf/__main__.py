"""``python -m topicmf`` runs the command line."""

import sys

if __name__ == "__main__":  # worker processes that re-import the main module must not run it
    try:
        from .cli import main
    except KeyboardInterrupt:  # Ctrl-C while the command line loads: nothing was started
        sys.exit(130)
    sys.exit(main())
