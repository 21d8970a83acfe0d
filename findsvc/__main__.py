import sys

from findsvc.entrypoints.cli import main

sys.exit(main())
