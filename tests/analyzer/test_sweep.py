"""The wall-clock sweep raises time-driven alerts without any new event, once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from services.analyzer.assessment import Assessor, ModelConfig
from services.analyzer.clock_sweep import sweep_once
from services.analyzer.db.account_state_codec import decode
from services.analyzer.db.models import AccountModel, AlertRow
from services.analyzer.model import DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS
from shared.settings import Topics
from tests.analyzer.helpers import apply_all, sessions_for
from tests.factories import create_stakeholder, create_survey


async def test_a_silent_decision_maker_is_flagged_by_the_sweep_once(database_url: str) -> None:
    assessor = Assessor(ModelConfig(DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS), Topics())
    async with sessions_for(database_url) as sessions:
        await apply_all(
            sessions,
            [
                create_stakeholder(stakeholder_id="fin", role="finance"),
                create_stakeholder(stakeholder_id="proc", role="procurement"),
                # IT does not decide the renewal by default: its silence is no alert.
                create_stakeholder(stakeholder_id="it", role="it"),
                create_survey(stakeholder_id="fin", score=8, occurred_at="2026-01-05T10:00:00Z"),
                create_survey(stakeholder_id="proc", score=8, occurred_at="2026-01-05T10:00:00Z"),
                create_survey(stakeholder_id="it", score=8, occurred_at="2026-01-05T10:00:00Z"),
            ],
        )

        async def silent_alerts() -> list[AlertRow]:
            async with sessions() as session:
                query = select(AlertRow).where(AlertRow.type == "silent_stakeholder")
                return list(await session.scalars(query))

        assert await silent_alerts() == []
        later = datetime(2026, 6, 1, tzinfo=UTC)  # ~150 days without a word from either
        assert await sweep_once(sessions, assessor, now=later) > 0
        first = {a.key for a in await silent_alerts()}
        assert first == {"fin", "proc"}
        await sweep_once(sessions, assessor, now=later)
        assert len(await silent_alerts()) == 2, "a repeated sweep opens nothing twice"


async def test_the_sweep_rebuilds_a_state_an_earlier_model_wrote(database_url: str) -> None:
    assessor = Assessor(ModelConfig(DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS), Topics())
    async with sessions_for(database_url) as sessions:
        await apply_all(
            sessions,
            [
                create_stakeholder(stakeholder_id="fin", role="finance"),
                create_survey(stakeholder_id="fin", score=8, occurred_at="2026-01-05T10:00:00Z"),
                create_survey(stakeholder_id="fin", score=4, occurred_at="2026-01-20T10:00:00Z"),
            ],
        )
        async with sessions() as session, session.begin():
            row = await session.scalar(select(AccountModel))
            assert row is not None
            # As the model before answer noise stored it: [s, w, n, ref], no sum of squares.
            row.document = {**row.document, "states": {k: v[:4] for k, v in row.document["states"].items()}}
        await sweep_once(sessions, assessor, now=datetime(2026, 6, 1, tzinfo=UTC))
        async with sessions() as session:
            row = await session.scalar(select(AccountModel))
            assert row is not None
            # Rebuilt from the answers: the spread of 8 and 4 is back (read as is, it would be 0).
            spread = decode(row.document).states[("fin", None)].spread
            assert spread is not None
            assert spread > 0.0
