"""The backtest: how early and how precisely each rule flagged the renewals that went badly.

``scoring`` is pure (renewals, flag spans and answers in; figures out); ``GET /v1/backtest``
(``endpoints``, through ``service``) feeds it the stored outcomes, alerts and NPS answers (``repository``).
"""
