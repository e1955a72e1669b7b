"""Ingestion: a source string to a parsed, normalised ledger (sources, storage, readers, parsing, sandbox, cache)."""
