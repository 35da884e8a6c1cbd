"""JSON columns are written with orjson and read back exactly, including what only ``json`` handles."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from sqlalchemy import select, text

from services.analyzer.db.engine import create_engine, create_sessionmaker, json_dumps, json_loads
from services.analyzer.db.models import JourneyMomentRow


def test_a_value_orjson_refuses_is_written_by_json() -> None:
    big = {"seats": 2**70, "name": "Zoë"}
    assert json_loads(json_dumps(big)) == big


def test_a_document_holding_nan_written_by_an_earlier_release_still_reads() -> None:
    # ``json.dumps`` writes NaN and Infinity as bare words, which orjson does not parse.
    value = json_loads('{"q": NaN, "se": Infinity}')
    assert math.isnan(value["q"])
    assert value["se"] == math.inf


async def test_json_columns_round_trip_on_the_database(database_url: str) -> None:
    engine = create_engine(database_url)
    attributes = {"ticket": "T-1", "seats": 2**70, "nested": {"ok": [1, 2.5, None, True]}, "name": "Zoë"}
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            session.add(
                JourneyMomentRow(
                    event_id="e-json",
                    account_id="acme",
                    moment="support_close",
                    occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
                    attributes=attributes,
                )
            )
        async with create_sessionmaker(engine)() as session:
            row = (await session.scalars(select(JourneyMomentRow))).one()
            assert row.attributes == attributes
            stored = (await session.execute(text("SELECT attributes FROM journey_moments"))).scalar_one()
            assert "T-1" in str(stored)
    finally:
        await engine.dispose()
