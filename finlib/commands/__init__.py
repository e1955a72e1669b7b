"""The command line's commands, one module per family; `finlib.cli` parses and dispatches."""
