"""Forecasts you can check: per-invoice payment dates, 13-week cash-in, amount forecasts, their backtest, alerts."""
