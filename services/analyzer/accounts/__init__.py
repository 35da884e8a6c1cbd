"""Accounts: each account's single score beside the positions and the divergence it hides, and its history."""
