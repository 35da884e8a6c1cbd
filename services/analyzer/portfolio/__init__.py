"""The portfolio view (issue 21): role x segment positions, low sides, drivers, value at risk and their trends."""
