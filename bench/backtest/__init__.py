"""Backtests of the renewal-risk alerts on simulated portfolios."""
