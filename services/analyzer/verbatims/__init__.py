"""Verbatims: what each role says in its comments, as themes of a B2B taxonomy and a sentiment.

``taxonomy`` is the data, ``text`` and ``classify`` the pure classifier, ``sentiment`` the offline
lexicon model, ``summary`` the pure per-role aggregation and ``repository`` the only I/O (docs/model.md,
"Verbatims").
"""
