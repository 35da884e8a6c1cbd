"""The analyzer evaluates with the stored fit in use (``feedback risk fit``), read when it starts."""

from __future__ import annotations

from datetime import UTC, datetime

from services.analyzer.app import create_app
from services.analyzer.model.risk import DEFAULT_RISK_MODEL, RiskModel
from services.analyzer.repository import risk_models
from tests.analyzer.helpers import sessions_for
from tests.factories import create_analyzer_settings
from tests.harness.kafka import unique_topics

FITTED = RiskModel(
    version="fit-test",
    intercept=-0.5,
    coefficients={"decision_makers_mean": -2.0, "nps": -1.0},
    source="fitted on 40 renewals (12 bad)",
)


async def store(url: str, model: RiskModel) -> None:
    async with sessions_for(url) as sessions, sessions() as session, session.begin():
        await risk_models.store(
            session, model, created_at=datetime(2026, 12, 1, tzinfo=UTC), renewals=40, bad=12, validation=None
        )


async def model_in_use(url: str) -> RiskModel:
    app = create_app(create_analyzer_settings("127.0.0.1:1", unique_topics(), url), consume=False)
    async with app.router.lifespan_context(app):
        model: RiskModel = app.state.assessor.config.risk
        return model


async def test_a_fresh_database_evaluates_with_the_defaults(database_url: str) -> None:
    assert await model_in_use(database_url) == DEFAULT_RISK_MODEL


async def test_the_active_fit_is_the_model_in_use_after_a_start(database_url: str) -> None:
    await store(database_url, FITTED)
    in_use = await model_in_use(database_url)
    assert in_use.version == "fit-test"
    assert in_use.coefficient("decision_makers_mean") == -2.0
    assert in_use.coefficient("lowest_decision_maker") == 0.0  # left out of that fit


async def test_a_reset_goes_back_to_the_defaults_at_the_next_start(database_url: str) -> None:
    await store(database_url, FITTED)
    async with sessions_for(database_url) as sessions, sessions() as session, session.begin():
        assert await risk_models.reset(session) == 1
    assert await model_in_use(database_url) == DEFAULT_RISK_MODEL
