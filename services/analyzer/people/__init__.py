"""People: the erasure of a person (GDPR Art. 17) from every table, with a record that survives replays."""
