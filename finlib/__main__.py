"""Entry point for `python -m finlib`."""

import os
import sys

# OpenBLAS's helper threads spin for about 0.1 s after every matrix product before they sleep (its default wait,
# 2**28 cycles). The backtest's two forked workers each make ~36 small products, and each one's spinning helper
# took the core the other worker needed (8.6 CPU-s instead of 5.9 for `backtest` at 1M rows). The shortest wait
# (2**4 cycles) keeps the thread count, so every sum is split and added as before; OpenBLAS reads it once, when
# numpy loads it, so it is set here before anything imports numpy. A value the user set is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

PARSING_COMMANDS = {"demo", "register", "upload", "refresh"}

if PARSING_COMMANDS & set(sys.argv[1:3]):
    # The parser server imports pandas while this process imports its own: the two overlap on two cores.
    # Only commands that parse start it (and import its module): `--help` and `projects` stay light.
    from finlib.ingest.sandbox import start_parser_server

    start_parser_server()

import gc  # noqa: E402

from finlib.cli import main  # noqa: E402

status = main()
# At exit the interpreter's last garbage collections walk every object and free the cycles among them one by one:
# 0.15 s after a command that held a million-row ledger, for memory the process is about to hand back whole.
# Frozen objects are left to the exit; files and connections are closed by their own code, not by that sweep.
gc.freeze()
raise SystemExit(status)
