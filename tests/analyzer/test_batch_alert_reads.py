"""A batch reads the alerts an evaluation can change, not every alert an account ever had.

Resolved alerts accumulate over an account's life; reading them all with every batch would make an
old account cost more per event than a young one. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.analyzer.alerts import repository as alert_repository
from services.analyzer.db.models import AccountModel, AlertRow
from services.analyzer.model.alerts import AlertStatus
from services.analyzer.processing import EventProcessor, RecordMeta
from services.analyzer.repository.batch import BatchState, read_batch
from services.analyzer.repository.unit_of_work import batch_work
from shared.events import decode_event
from shared.settings import Topics
from tests.analyzer.helpers import EVERYTHING_IS_NEWS, encode, sessions_for
from tests.factories import create_survey

AS_OF = datetime(2026, 5, 1, 10, tzinfo=UTC)


def _alert(alert_id: str, *, active: bool, closed: datetime | None) -> AlertRow:
    return AlertRow(
        alert_id=alert_id,
        account_id="acme",
        type="divergence",
        key=None,
        severity="warning",
        status=AlertStatus.OPEN if active else AlertStatus.RESOLVED,
        active=active,
        opened_as_of=AS_OF - timedelta(days=400),
        closed_as_of=closed,
        created_at=AS_OF,
        updated_at=AS_OF,
        seq=1,
        record={"alert_id": alert_id},
    )


async def test_a_batch_reads_open_and_recently_closed_alerts_only(database_url: str) -> None:
    answer = create_survey(event_id="a1", occurred_at="2026-05-01T10:00:00Z")
    async with sessions_for(database_url) as sessions:
        async with sessions() as session, session.begin():
            await EventProcessor(Topics(), EVERYTHING_IS_NEWS).process_batch(
                session, [(encode(answer), RecordMeta("feedback.events.v1", 0, 0, b"acme"))]
            )
        async with sessions() as session, session.begin():
            model = await session.get(AccountModel, "acme")
            assert model is not None
            model.as_of = AS_OF
            session.add_all(
                [_alert(f"old-{n}", active=False, closed=AS_OF - timedelta(days=300 - n)) for n in range(30)]
                + [
                    _alert("open", active=True, closed=None),
                    _alert("closed-today", active=False, closed=AS_OF + timedelta(hours=1)),
                ]
            )
        later = create_survey(event_id="a2", occurred_at="2026-05-02T10:00:00Z")
        async with sessions() as session, session.begin():
            with batch_work(session) as work:
                state: BatchState = work.read
                await read_batch(session, [decode_event(encode(later))], state)
                assert {a.alert_id for a in state.alerts["acme"]} == {"open", "closed-today"}
                changeable = await alert_repository.changeable_alerts(session, "acme")
                assert {a.alert_id for a in changeable} == {"open", "closed-today"}
                # Asked for every alert (a replay), the batch reads the rest and keeps the same objects.
                every = await alert_repository.account_alerts(session, "acme")
                stored = await session.scalar(select(func.count()).select_from(AlertRow))
                assert len(every) == stored
                assert {a.alert_id for a in every} >= {f"old-{n}" for n in range(30)} | {"open", "closed-today"}
                opened = next(a for a in changeable if a.alert_id == "open")
                assert any(a is opened for a in every)
                assert state.alerts["acme"] == every
