"""The HTTP API: the original design's /upload and /query, read endpoints, guards (a face beside the CLI)."""
