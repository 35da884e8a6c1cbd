"""Tests of the analyzer's pure model: positions, divergence, rules and the alert lifecycle."""
