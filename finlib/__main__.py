"""Entry point for `python -m finlib`."""

from finlib.cli import main

raise SystemExit(main())
