"""``make demo``: a seeded year of about 50 accounts, replayed through the running stack, and a backtest.

``archetypes`` holds the seven stories and their parameters, ``generator`` turns a seed into the
events (pure), ``stack`` posts them and reads the analyzer back, ``report`` prints the tables.
docs/demo.md tells the story so that the printed figures can be checked.
"""
