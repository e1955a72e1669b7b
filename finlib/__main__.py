"""Entry point for `python -m finlib`."""

import sys

PARSING_COMMANDS = {"demo", "register", "upload", "refresh"}

if PARSING_COMMANDS & set(sys.argv[1:3]):
    # The parser server imports pandas while this process imports its own: the two overlap on two cores.
    # Only commands that parse start it (and import its module): `--help` and `projects` stay light.
    from finlib.ingest.sandbox import start_parser_server

    start_parser_server()

from finlib.cli import main  # noqa: E402

raise SystemExit(main())
