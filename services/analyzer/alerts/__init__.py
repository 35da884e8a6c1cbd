"""Alerts: the one service that changes them and the repository that reads them."""
