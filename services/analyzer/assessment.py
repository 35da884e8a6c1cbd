"""Connects the pure model to the state: fold answers in, evaluate the rules, record alerts.

Runs inside the consumer's transaction (the per-event recipe of docs/model.md). Everything it
publishes (position changes, alert changes) is written to the outbox in that same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from services.analyzer.db.models import Account, AccountModel, AlertRow, Response
from services.analyzer.model import (
    EMPTY,
    AccountSnapshot,
    ActiveAlert,
    Answer,
    ClassicAnswer,
    DecayedState,
    HeldAnswer,
    StakeholderRecord,
    StateKey,
    Thresholds,
    Transition,
    build_snapshot,
    classic_scores,
    evaluate,
    fold_answer,
    normalise_answer,
    state_keys,
    transitions,
)
from services.analyzer.repository import directory, ledger
from services.analyzer.repository.batch import batch_of
from services.analyzer.webhooks.outbox import enqueue_deliveries
from shared.events import Scale
from shared.settings import Topics

EVIDENCE_PER_PERSON = 5
SEP = "\x1f"  # separates parts of a JSON key; never part of an id


@dataclass(frozen=True)
class ModelConfig:
    """The model's settings: half-life and every rule threshold."""

    half_life: timedelta
    thresholds: Thresholds


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def held_answer(row: Response) -> HeldAnswer:
    """The model's view of a stored answer version."""
    scale = Scale(min=row.scale_min, max=row.scale_max, higher_is_better=row.higher_is_better)
    value = normalise_answer(row.metric, row.score, scale)  # type: ignore[arg-type]
    answer = Answer(value, row.occurred_at, row.event_id)
    return HeldAnswer.of(answer, stakeholder_id=row.stakeholder_id, dimension=row.dimension)


class Document:
    """The JSON document of ``account_models``, read and written through typed accessors."""

    def __init__(self, raw: dict[str, Any] | None) -> None:
        self.raw: dict[str, Any] = raw or {
            "states": {},
            "classic": {},
            "history": {},
            "evidence": {},
            "divergence_series": [],
            "mean_series": [],
        }

    def state(self, key: StateKey) -> DecayedState:
        """The decayed state of a person (dimension None) or a person on a dimension."""
        found = self.raw["states"].get(f"{key[0]}{SEP}{key[1] or ''}")
        if found is None:
            return EMPTY
        s, w, n, ref = found
        return DecayedState(s=s, w=w, n=n, ref=_dt(ref))

    def set_state(self, key: StateKey, state: DecayedState) -> None:
        """Store a decayed state."""
        self.raw["states"][f"{key[0]}{SEP}{key[1] or ''}"] = [state.s, state.w, state.n, _iso(state.ref)]

    def states_by_person(self) -> dict[str, tuple[DecayedState, dict[str, DecayedState]]]:
        """Every person's overall state and their state per dimension, in one pass over the states."""
        found: dict[str, tuple[DecayedState, dict[str, DecayedState]]] = {}
        for raw_key, (s, w, n, ref) in self.raw["states"].items():
            sid, _, dim = raw_key.partition(SEP)
            overall, dims = found.get(sid, (EMPTY, {}))
            state = DecayedState(s=s, w=w, n=n, ref=_dt(ref))
            if dim:
                dims[dim] = state
                found[sid] = (overall, dims)
            else:
                found[sid] = (state, dims)
        return found


class Assessor:
    """Applies the model to one account at a time inside the caller's transaction."""

    def __init__(self, config: ModelConfig, topics: Topics) -> None:
        self.config = config
        self.topics = topics

    async def load(self, session: AsyncSession, account_id: str) -> AccountModel:
        """The account's model row, created empty on first use."""
        state = batch_of(session)
        if state is not None and account_id in state.models:
            row = state.models[account_id]
        else:
            row = await session.get(AccountModel, account_id)
        if row is None:
            row = AccountModel(
                account_id=account_id, document=Document(None).raw, as_of=datetime.min.replace(tzinfo=UTC)
            )
            session.add(row)
            if state is not None:
                state.models[account_id] = row
        return row

    async def fold(
        self,
        session: AsyncSession,
        *,
        row: Response,
        held: Response | None,
        event_id: str,
    ) -> bool:
        """Fold a new answer version into the states; False when it does not count."""
        model = await self.load(session, row.account_id)
        doc = Document(model.document)
        new = held_answer(row)
        previous = held_answer(held) if held is not None else None
        loaded = {key: doc.state(key) for key in state_keys(new, previous)}
        changed = fold_answer(new, held=previous, states=loaded, half_life=self.config.half_life)
        if changed is None:
            return False
        for key, state in changed.items():
            doc.set_state(key, state)
        self._remember_classic(doc, row)
        self._remember_evidence(doc, row.stakeholder_id, row.occurred_at, event_id)
        for stakeholder_id in {key[0] for key in changed}:
            position = doc.state((stakeholder_id, None)).position
            if position is not None:
                history = doc.raw["history"].setdefault(stakeholder_id, [])
                history.append([row.occurred_at.isoformat(), position])
                history.sort()
                doc.raw["history"][stakeholder_id] = _prune(
                    history, row.occurred_at, self.config.thresholds.drop_window
                )
                ledger.enqueue(
                    session,
                    message_id=f"position:{event_id}:{stakeholder_id}",
                    topic=self.topics.positions,
                    key=row.account_id,
                    value={
                        "account_id": row.account_id,
                        "stakeholder_id": stakeholder_id,
                        "position": position,
                        "answers": doc.state((stakeholder_id, None)).n,
                        "as_of": row.occurred_at.isoformat(),
                        "event_id": event_id,
                    },
                )
        _store(model, doc.raw)
        return True

    @staticmethod
    def _remember_classic(doc: Document, row: Response) -> None:
        if row.metric == "rating":
            return
        key = f"{row.stakeholder_id}{SEP}{row.metric}"
        prior = doc.raw["classic"].get(key)
        version = [row.occurred_at.isoformat(), row.event_id]
        if prior is None or version > prior[2:]:
            doc.raw["classic"][key] = [row.score, held_answer(row).answer.value, *version]

    @staticmethod
    def _remember_evidence(doc: Document, stakeholder_id: str, at: datetime, event_id: str) -> None:
        items = doc.raw["evidence"].setdefault(stakeholder_id, [])
        if [at.isoformat(), event_id] not in items:
            items.append([at.isoformat(), event_id])
        items.sort(reverse=True)
        del items[EVIDENCE_PER_PERSON:]

    async def snapshot(
        self, session: AsyncSession, account: Account, *, as_of: datetime | None = None
    ) -> AccountSnapshot:
        """The account's figures as of its own latest event time (or ``as_of``)."""
        model = await self.load(session, account.account_id)
        doc = Document(model.document)
        people = {p.stakeholder_id: p for p in await directory.list_stakeholders(session, account.account_id)}
        records = []
        states = doc.states_by_person()
        for sid in sorted(states.keys() | people.keys()):
            person = people.get(sid)
            overall, dims = states.get(sid, (EMPTY, {}))
            records.append(
                StakeholderRecord(
                    stakeholder_id=sid,
                    role=person.role if person else "unassigned",
                    side=person.side if person else "client",  # type: ignore[arg-type]
                    influence=person.influence if person else 1.0,
                    state=overall,
                    dimensions=dims,
                    known_since=person.first_seen_at if person else None,
                    evidence=tuple(e for _, e in doc.raw["evidence"].get(sid, [])),
                    history=tuple((datetime.fromisoformat(t), p) for t, p in doc.raw["history"].get(sid, [])),
                ),
            )
        client = [
            ClassicAnswer(sid, metric, score, value)
            for key, (score, value, *_v) in doc.raw["classic"].items()
            for sid, _, metric in [key.partition(SEP)]
            if (people[sid].side if sid in people else "client") == "client"
        ]
        when = as_of or max(account.last_event_at, model.as_of)
        return build_snapshot(
            account_id=account.account_id,
            as_of=when,
            stakeholders=records,
            thresholds=self.config.thresholds,
            half_life=self.config.half_life,
            divergence_series=_series(doc.raw["divergence_series"]),
            mean_series=_series(doc.raw["mean_series"]),
            renewal_date=account.renewal_date,
            renewal_moment_at=_dt(doc.raw.get("renewal_moment_at")),
            renewal_outcome_at=_dt(doc.raw.get("renewal_outcome_at")),
            classic=classic_scores(client),
        )

    async def note_moment(self, session: AsyncSession, account_id: str, moment: str, at: datetime) -> None:
        """Remember the latest renewal moments, which open and close the renewal window."""
        field = {"renewal_approach": "renewal_moment_at", "renewal_outcome": "renewal_outcome_at"}.get(moment)
        if field is None:
            return
        model = await self.load(session, account_id)
        doc = model.document
        if doc.get(field) is None or doc[field] < at.isoformat():
            doc[field] = at.isoformat()
            _store(model, doc)

    async def assess(
        self,
        session: AsyncSession,
        account_id: str,
        *,
        trigger: str,
        as_of: datetime | None = None,
    ) -> list[Transition]:
        """Evaluate every rule for the account and record the alert changes (with their outbox rows)."""
        account = await directory.get_account(session, account_id)
        if account is None:
            return []
        model = await self.load(session, account_id)
        snap = await self.snapshot(session, account, as_of=as_of)
        state = batch_of(session)
        if state is not None and account_id in state.alerts:
            rows = [r for r in state.alerts[account_id] if r.active]
        else:
            rows = list(
                await session.scalars(
                    select(AlertRow).where(AlertRow.account_id == account_id, AlertRow.active.is_(True))
                ),
            )
        active = [
            ActiveAlert(
                alert_id=r.alert_id,
                type=r.type,  # type: ignore[arg-type]
                key=r.key,
                severity=r.severity,  # type: ignore[arg-type]
                status=r.status,  # type: ignore[arg-type]
                opened_as_of=r.opened_as_of,
            )
            for r in rows
        ]
        conditions = evaluate(snap, self.config.thresholds, active)
        changes = transitions(account_id=account_id, active=active, conditions=conditions, trigger=trigger)
        by_id = {r.alert_id: r for r in rows}
        for change in changes:
            await self._record(session, change, by_id.get(change.alert_id), snap, account.segment)
        self._record_series(model, snap)
        return changes

    def _record_series(self, model: AccountModel, snap: AccountSnapshot) -> None:
        doc = model.document
        window = self.config.thresholds.trend_window
        for name, value in (
            ("divergence_series", snap.divergence.gap if snap.divergence else None),
            ("mean_series", snap.account_mean),
        ):
            if value is not None:
                series = [*doc[name], [snap.as_of.isoformat(), value]]
                series.sort()
                doc[name] = _prune(series, snap.as_of, window)
        _store(model, doc)
        model.as_of = max(model.as_of, snap.as_of)
        model.account_mean = snap.account_mean
        model.divergence = snap.divergence.gap if snap.divergence else None
        model.nps = snap.nps

    async def _record(
        self,
        session: AsyncSession,
        change: Transition,
        row: AlertRow | None,
        snap: AccountSnapshot,
        segment: str | None,
    ) -> None:
        now = datetime.now(UTC)
        if change.kind == "unchanged":
            return
        if change.kind == "release":
            if row is not None:
                row.active = False
            return
        if row is None:
            if change.kind != "open":
                return
            row = AlertRow(
                alert_id=change.alert_id,
                account_id=snap.account_id,
                type=change.type,
                key=change.key,
                severity=change.severity,
                status="open",
                active=True,
                opened_as_of=snap.as_of,
                created_at=now,
                updated_at=now,
                seq=0,
                record={},
            )
            session.add(row)
            if (state := batch_of(session)) is not None and snap.account_id in state.alerts:
                state.alerts[snap.account_id].append(row)
        row.severity = change.severity
        row.status = change.status
        row.updated_at = now
        if change.kind == "resolve":
            row.active = False
            row.resolved_at = row.resolved_at or now
        condition = change.condition.as_dict() if change.condition is not None else {}
        row.record = alert_record(row, snap, condition)
        event_type = {"open": "alert.opened", "update": "alert.updated", "resolve": "alert.resolved"}[change.kind]
        await publish_alert_change(session, row, event_type, self.topics, segment)


def alert_record(row: AlertRow, snap: AccountSnapshot | None, condition: dict[str, Any]) -> dict[str, Any]:
    """The alert record of CONTRACT.md, keeping the last known figures when the condition is gone."""
    previous = row.record or {}
    record = {
        "alert_id": row.alert_id,
        "type": row.type,
        "severity": row.severity,
        "status": row.status,
        "account_id": row.account_id,
        "as_of": (snap.as_of.isoformat() if snap else previous.get("as_of")),
        "opened_as_of": row.opened_as_of.isoformat(),
        "created_at": row.created_at.isoformat(),
        "summary": condition.get("summary", previous.get("summary", "")),
        "metrics": condition.get("metrics", previous.get("metrics", {})),
        "positions": condition.get("positions", previous.get("positions", [])),
        "evidence": condition.get("evidence", previous.get("evidence", [])),
    }
    if row.acknowledged_at is not None:
        record["acknowledged"] = {"by": row.acknowledged_by, "at": row.acknowledged_at.isoformat()}
    if row.resolved_at is not None:
        record["resolved"] = {"by": row.resolved_by, "at": row.resolved_at.isoformat()}
    if row.note:
        record["note"] = row.note
    return record


async def publish_alert_change(
    session: AsyncSession,
    row: AlertRow,
    event_type: str,
    topics: Topics,
    segment: str | None,
) -> None:
    """Queue one alert change for Kafka (and for webhook subscribers) in the caller's transaction."""
    row.seq += 1
    message_key = f"{row.alert_id}:{row.seq}"
    ledger.enqueue(
        session,
        message_id=f"alert:{message_key}",
        topic=topics.alerts,
        key=row.account_id,
        value={"event": event_type, **row.record},
    )
    await enqueue_deliveries(
        session,
        event_type=event_type,
        alert=row.record,
        account_id=row.account_id,
        segment=segment,
        message_key=message_key,
    )


def _store(model: AccountModel, document: dict[str, Any]) -> None:
    # The document is changed in place (no copy per event): flag it so that the change is written.
    # A failed event cannot leave a half-changed document behind, because the consumer rolls its
    # whole batch back and applies the batch again in a new session.
    model.document = document
    flag_modified(model, "document")


def _series(raw: Iterable[list[Any]]) -> list[tuple[datetime, float]]:
    return [(datetime.fromisoformat(t), float(v)) for t, v in raw]


def _prune(series: list[list[Any]], now: datetime, window: timedelta) -> list[list[Any]]:
    """Keep the points inside the window plus the last one before it (the window's baseline)."""
    start = (now - window).isoformat()
    inside = [p for p in series if p[0] >= start]
    before = [p for p in series if p[0] < start]
    return ([before[-1]] if before else []) + inside
