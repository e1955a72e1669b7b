"""Analytics: pure functions on the ledger frame (measures, per-customer statistics, original forecasts)."""
