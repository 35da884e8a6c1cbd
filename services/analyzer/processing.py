"""Applying Kafka records to the analyzer's state, a batch at a time, inside the caller's transaction.

The records of a batch are decoded first; what they reach is read in a few queries; the events are
applied in memory, in order; the caller's flush writes everything back. A record that does not
decode, or whose event time lies outside the accepted window, is dead-lettered (through the outbox)
in place. Sealed personal data is opened with the key ring's data keys first (``keyring.py``); a record
whose key was shredded is marked ``shredded`` and not applied, or, a journey moment, applied without
its stakeholder. Any error while an event is applied propagates, and the consumer narrows it down to the
one record and dead-letters that record alone (services/analyzer/consumer.py).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.analyzer.assessment import Assessor, ModelConfig
from services.analyzer.attribution import Attribution, attribute, identities_of, known_respondent
from services.analyzer.db.models import Response, UnverifiedAnswer
from services.analyzer.keyring import KeyRing
from services.analyzer.model import DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS
from services.analyzer.outbox import repository as outbox
from services.analyzer.people.guard import erased_among
from services.analyzer.people.repository import hold_against_erasure
from services.analyzer.repository import directory, identities, ledger, positions, responses, unverified
from services.analyzer.repository.batch import read_batch
from services.analyzer.repository.unit_of_work import batch_work
from services.analyzer.requests import service as survey_requests
from shared.event_time import TimePolicy
from shared.events import AccountEvent, Event, JourneyMoment, StakeholderEvent, SurveyResponse, decode_event
from shared.personal import SealError, sealed_key_id, split_sealed, unseal
from shared.settings import Topics

log = logging.getLogger(__name__)

MODEL_FIELDS = {"role", "side", "influence", "decision_maker"}  # what the model reads of a person
SCHEMA = "feedback.event.v1"  # the ``schema`` header of the records this analyzer reads


@dataclass(frozen=True, slots=True)
class RecordMeta:
    """Where a record came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    # The record's ``schema`` header (ingest writes ``feedback.event.v1``; other producers may omit it).
    schema: str | None = None
    # When the record was published (Kafka's timestamp, ms): an erasure skips what was published before.
    timestamp_ms: int | None = None

    @classmethod
    def of(cls, record: Any) -> RecordMeta:
        """The meta of a consumer record (``aiokafka.ConsumerRecord``), its ``schema`` header included."""
        schema = next((v.decode(errors="replace") for k, v in record.headers or () if k == "schema"), None)
        return cls(record.topic, record.partition, record.offset, record.key, schema, record.timestamp)

    @property
    def position(self) -> str:
        """``topic:partition:offset``, the id of a record that has no usable event id."""
        return f"{self.topic}:{self.partition}:{self.offset}"


class EventProcessor:
    """Applies canonical events to the directory, the answers and (later) the model."""

    def __init__(
        self,
        topics: Topics,
        model: ModelConfig | None = None,
        *,
        time_policy: TimePolicy | None = None,
        trusted_link_sources: Iterable[str] = (),
        keyring: KeyRing | None = None,
        requests: survey_requests.RequestConfig | None = None,
        dedup_window: timedelta | None = None,
    ) -> None:
        self.topics = topics
        self.assessor = Assessor(model or ModelConfig(DEFAULT_HALF_LIFE, DEFAULT_THRESHOLDS), topics)
        self.time_policy = time_policy or TimePolicy()
        # Vendors whose survey-link parameters the supplier trusts (TRUST_LINK_PARAMETERS).
        self.trusted_link_sources = frozenset(trusted_link_sources)
        self.keyring = keyring
        # Survey requests at journey moments (None: no one is asked; answers still fulfil requests).
        self.requests = requests
        # How long the ledger keeps an event's id (ANALYZER_DEDUP_WINDOW_S; None: for ever, as in a
        # rebuild's fresh database). Beyond it, a late duplicate is recognised by the facts it left.
        self.dedup_window = dedup_window

    def decode(self, raw: bytes) -> Event | Shredded:
        """Parse a record (opening its sealed personal data) and check its event time.

        ``ValueError`` says why it cannot be applied. A sealed record whose data key was shredded
        reads as anonymous: a journey moment without its stakeholder, anything else as ``Shredded``.
        The key ring must have been ``ensure``d for the record's key (``process_batch`` does).
        """
        opened = self._open(raw)
        if isinstance(opened, Shredded):
            return opened
        try:
            event = decode_event(opened)
        except (ValidationError, ValueError) as exc:
            if opened is raw:
                raise ValueError(f"undecodable event: {exc}") from exc
            # The opened record holds personal data: name the fields, never their values.
            raise ValueError(f"undecodable event: {_without_values(exc)}") from exc
        if event.event_id is None:
            # Ingest always gives one; a record from another producer must carry its own, since the
            # id is what makes a replay change nothing.
            raise ValueError("undecodable event: event_id is required on the topic")
        reason = self.time_policy.violation(event.occurred_at, datetime.now(UTC))
        if reason is not None:
            raise ValueError(f"event time outside the accepted window: {reason}")
        return event

    def _open(self, raw: bytes) -> bytes | Shredded:
        """The record as plaintext JSON: a plaintext record as it is, a sealed one opened or made anonymous."""
        try:
            split = split_sealed(raw)
            if split is None:
                return raw
            record, seal_part = split
            event_id = record.get("event_id")
            if not isinstance(event_id, str) or not event_id:
                raise SealError("a sealed record must carry its event_id")
            if self.keyring is None:
                raise SealError("this processor has no key ring to open it with")
            key = self.keyring.lookup(seal_part["key"])
            if key is not None:
                return _dumps(unseal(record, seal_part, key.secret))
        except SealError as exc:
            raise ValueError(f"sealed personal data: {exc}") from exc
        # The data key was shredded: what is left of the record names no one.
        if record.get("type") == "journey_moment":
            return _dumps(record)
        return Shredded(event_id, str(record.get("type")))

    async def process(self, session: AsyncSession, raw: bytes, meta: RecordMeta) -> str:
        """Apply one record; return its outcome (``applied``, ``duplicate``, ``dead_lettered``, ``shredded``)."""
        [outcome] = await self.process_batch(session, [(raw, meta)])
        return outcome

    async def process_batch(self, session: AsyncSession, records: Sequence[tuple[bytes, RecordMeta]]) -> list[str]:
        """Apply records in order in the caller's transaction; return each outcome.

        Every record is decoded first; the ledger entries and the state the valid ones reach are
        then read in a few queries (``repository/batch.py``), the events are applied in memory, and
        the session writes it all back when the caller flushes or commits. A record that does not
        decode, or whose time lies outside the accepted window, is dead-lettered in place. Any
        error while an event is applied propagates: the consumer rolls the batch back and narrows
        the failure down to the one record, which it dead-letters alone.
        """
        if self.keyring is not None:
            # Every data key the batch names is known now, or was shredded (keyring.py).
            await self.keyring.ensure(k for raw, _ in records if (k := sealed_key_id(raw)) is not None)
        decoded: list[Event | Shredded | ValueError] = []
        for raw, meta in records:
            if meta.schema is not None and meta.schema != SCHEMA:
                # A later version may mean the same fields differently: never read it as this one.
                decoded.append(ValueError(f"unsupported schema {meta.schema!r}: this analyzer reads {SCHEMA}"))
                continue
            try:
                decoded.append(self.decode(raw))
            except ValueError as exc:
                decoded.append(exc)
        # Records about a person erased since they were published are not applied (people/guard.py);
        # no erasure commits between this read and the batch's commit.
        await hold_against_erasure(session)
        valid = [
            (i, e, m.timestamp_ms)
            for i, (e, (_, m)) in enumerate(zip(decoded, records, strict=True))
            if not isinstance(e, ValueError | Shredded)
        ]
        skip, strip = await erased_among(session, [(e, at) for _, e, at in valid])
        erased = {valid[n][0] for n in skip}
        for n in strip:
            index, moment, _ = valid[n]
            assert not isinstance(moment, ValueError | Shredded)
            decoded[index] = moment.model_copy(update={"stakeholder_id": None})
        events = [e for i, e in enumerate(decoded) if not isinstance(e, ValueError | Shredded) and i not in erased]
        with batch_work(session) as work:
            published = {
                e.event_id: m.timestamp_ms
                for e, (_, m) in zip(decoded, records, strict=True)
                if not isinstance(e, ValueError) and e.event_id is not None
            }
            await ledger.prefetch(
                session,
                [e.event_id for e in events if e.event_id is not None],
                published_ms=published,
                dedup_window=self.dedup_window,
            )
            await read_batch(session, events, work.read)
            outcomes = await self._apply_all(session, records, decoded, erased)
            # What the events changed, written once: the ORM's rows (accounts, people, demoted
            # answers) in one flush, then the new answers, the ledger rows and the journey moments in
            # one multi-row insert each (a rebuild reads them back), then what the batch owes its
            # accounts (evaluations, rebuilds, alert rows), then one flush for the rest.
            await session.flush()
            await responses.write_new(session)
            await work.write()
            await self.assessor.finish(session)
            if self.requests is not None:
                # Whom to ask at the batch's journey moments, read from the evaluated accounts.
                await survey_requests.after_batch(session, self.assessor, self.requests)
            self.assessor.write_back(session)
            # Where the state now stops, in the same transaction (repository/positions.py).
            await positions.advance(session, positions.newest((m.topic, m.partition, m.offset) for _, m in records))
            await session.flush()
        return outcomes

    async def _apply_all(
        self,
        session: AsyncSession,
        records: Sequence[tuple[bytes, RecordMeta]],
        decoded: Sequence[Event | Shredded | ValueError],
        erased: set[int],
    ) -> list[str]:
        """Apply the decoded records in order; return each outcome (nothing is written yet)."""
        outcomes = []
        for index, ((raw, meta), event) in enumerate(zip(records, decoded, strict=True)):
            if isinstance(event, ValueError):
                outcomes.append(await self._dead_letter(session, meta.position, raw, meta, reason=str(event)))
                continue
            event_id = event.event_id or meta.position
            if await ledger.already_processed(session, event_id):
                outcomes.append("duplicate")
                continue
            if isinstance(event, Shredded):
                # Processed, so a replay changes nothing; never a dead letter: nothing is wrong with it.
                outcome = "shredded"
            elif index in erased:
                outcome = "erased"  # about a person erased since it was published (people/guard.py)
            else:
                await self.apply(session, event)
                outcome = "applied"
            ledger.mark_processed(
                session, event_id, topic=meta.topic, partition=meta.partition, offset=meta.offset, outcome=outcome
            )
            outcomes.append(outcome)
        return outcomes

    async def apply(self, session: AsyncSession, event: Event) -> None:
        """Change the state for one event (no ledger bookkeeping)."""
        # Each path tells the assessor what it changed; the assessor evaluates at the end of the
        # batch (assessment.py).
        match event:
            case SurveyResponse():
                await self._survey_response(session, event)
            case JourneyMoment():
                await self._journey_moment(session, event)
            case AccountEvent():
                await self._account(session, event)
            case StakeholderEvent():
                await self._stakeholder(session, event)

    async def _survey_response(self, session: AsyncSession, event: SurveyResponse) -> None:
        assert event.event_id is not None
        if event.identity == "unverified" and (event.source or "") not in self.trusted_link_sources:
            await self._hold_unverified(session, event)
            return
        who = await attribute(session, event)
        if who is None:
            people, accounts = identities_of(event)
            await identities.keep_unattributed(
                session,
                event_id=event.event_id,
                event=event.model_dump(mode="json", exclude_none=True),
                occurred_at=event.occurred_at,
                people=people,
                accounts=accounts,
            )
            return
        await self._store_answer(session, event, who)

    async def _hold_unverified(self, session: AsyncSession, event: SurveyResponse) -> None:
        """Keep an answer whose respondent only editable link parameters name: counted, never applied.

        Anyone holding a survey link can type any ids into it, so such an answer creates no account or
        person and moves no position (docs/security.md, "Who may answer as whom"); it is shown against
        the person the directory already knows under those ids, if any.
        """
        assert event.event_id is not None
        account_id, who = await known_respondent(session, event)
        unverified.hold(
            session,
            UnverifiedAnswer(
                event_id=event.event_id,
                response_key=event.response_id or event.event_id,
                source=event.source,
                account_id=who.account_id if who else account_id or event.account_id,
                stakeholder_id=who.stakeholder_id if who else event.stakeholder_id,
                known=who is not None,
                occurred_at=event.occurred_at,
                received_at=datetime.now(UTC),
                event=event.model_dump(mode="json", exclude_none=True),
            ),
        )

    async def _store_answer(self, session: AsyncSession, event: SurveyResponse, who: Attribution) -> None:
        """Hold one version of an answer for the attributed person; the latest version counts."""
        assert event.event_id is not None
        await directory.ensure_account(session, who.account_id, event.occurred_at)
        await directory.ensure_stakeholder(session, who.account_id, who.stakeholder_id, event.occurred_at)
        key = event.response_id or event.event_id
        held = await responses.current_version(session, key, who.account_id)
        newer = held is None or (held.occurred_at, held.event_id) < (event.occurred_at, event.event_id)
        if held is not None and newer:
            held.is_current = False
        scale = event.effective_scale
        row = Response(
            event_id=event.event_id,
            response_key=key,
            account_id=who.account_id,
            stakeholder_id=who.stakeholder_id,
            occurred_at=event.occurred_at,
            metric=event.metric,
            score=event.score,
            scale_min=scale.min,
            scale_max=scale.max,
            higher_is_better=scale.higher_is_better,
            dimension=event.dimension,
            moment=event.moment,
            comment=event.comment,
            source=event.source,
            is_current=newer,
        )
        responses.add(session, row)
        await self.assessor.fold(session, row=row, held=held, event_id=event.event_id)
        if event.request_id is not None:
            await survey_requests.fulfil(
                session,
                request_id=event.request_id,
                account_id=who.account_id,
                stakeholder_id=who.stakeholder_id,
                answered_at=event.occurred_at,
                event_id=event.event_id,
            )

    async def _attribute_waiting(self, session: AsyncSession, named: list[str]) -> None:
        """Attribute the answers that waited for any identity a directory event just named."""
        for row in await identities.waiting_for(session, named):
            event = SurveyResponse.model_validate(row.event)
            who = await attribute(session, event)
            if who is not None:
                await identities.attributed(session, row.event_id)
                await self._store_answer(session, event, who)

    async def _journey_moment(self, session: AsyncSession, event: JourneyMoment) -> None:
        assert event.event_id is not None
        await directory.ensure_account(session, event.account_id, event.occurred_at)
        await self.assessor.note_moment(session, event.account_id, event.moment, event.occurred_at, event.event_id)
        if event.stakeholder_id is not None:
            await directory.ensure_stakeholder(session, event.account_id, event.stakeholder_id, event.occurred_at)
        if self.requests is not None:
            survey_requests.note_moment(
                session,
                survey_requests.NotedMoment(
                    event.account_id, event.moment, event.event_id, event.occurred_at, event.stakeholder_id
                ),
            )
        responses.add_moment(
            session,
            {
                "event_id": event.event_id,
                "account_id": event.account_id,
                "stakeholder_id": event.stakeholder_id,
                "moment": event.moment,
                "occurred_at": event.occurred_at,
                "attributes": event.attributes,
            },
        )

    async def _account(self, session: AsyncSession, event: AccountEvent) -> None:
        assert event.event_id is not None
        account = await directory.ensure_account(session, event.account_id, event.occurred_at)
        version = directory.version_of(event.occurred_at, event.event_id)
        fields = {
            "name": event.name,
            "segment": event.segment,
            "renewal_date": event.renewal_date,
            "annual_value": event.annual_value,
        }
        if "renewal_date" in directory.apply_fields(account, fields, version):
            await self.assessor.directory_changed(session, event.account_id)
        for alias in event.aliases:
            await directory.set_account_alias(session, alias, event.account_id, version)
        await self._attribute_waiting(session, [event.account_id, *event.aliases])

    async def _stakeholder(self, session: AsyncSession, event: StakeholderEvent) -> None:
        assert event.event_id is not None
        await directory.ensure_account(session, event.account_id, event.occurred_at)
        person = await directory.ensure_stakeholder(session, event.account_id, event.stakeholder_id, event.occurred_at)
        version = directory.version_of(event.occurred_at, event.event_id)
        fields = {
            "name": event.name,
            "role": event.role,
            "side": event.side,
            "influence": event.influence,
            "decision_maker": event.decision_maker,
            "contactable": event.contactable,
        }
        if set(directory.apply_fields(person, fields, version)) & MODEL_FIELDS:
            # Who a person is holds for all time: every evaluation already made reads it again.
            await self.assessor.directory_changed(session, event.account_id)
        for alias in event.aliases:
            await directory.set_stakeholder_alias(session, alias, event.account_id, event.stakeholder_id, version)
        await self._attribute_waiting(session, [event.stakeholder_id, *event.aliases])

    async def dead_letter(self, session: AsyncSession, raw: bytes, meta: RecordMeta, *, reason: str) -> str:
        """Send a record to the dead-letter topic (through the outbox) and mark it processed."""
        try:
            ledger_id = self.decode(raw).event_id or meta.position
        except Exception:  # noqa: BLE001 - whatever fails here, the record's position still names it
            ledger_id = meta.position
        outcome = await self._dead_letter(session, ledger_id, raw, meta, reason=reason)
        await positions.advance(session, positions.newest([(meta.topic, meta.partition, meta.offset)]))
        return outcome

    async def _dead_letter(
        self,
        session: AsyncSession,
        ledger_id: str,
        raw: bytes,
        meta: RecordMeta,
        *,
        reason: str,
    ) -> str:
        if await ledger.already_processed(session, ledger_id):
            return "duplicate"
        outbox.enqueue(
            session,
            message_id=f"dlq:{ledger_id}",
            topic=self.topics.dlq,
            key=(meta.key or b"").decode(errors="replace") or "unknown",
            value=dead_letter_value(raw, meta, reason),
        )
        ledger.mark_processed(
            session,
            ledger_id,
            topic=meta.topic,
            partition=meta.partition,
            offset=meta.offset,
            outcome="dead_lettered",
        )
        return "dead_lettered"


@dataclass(frozen=True, slots=True)
class Shredded:
    """A sealed record whose data key was shredded (a survey response or a person): not applied."""

    event_id: str
    type: str


def _dumps(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode()


def _without_values(exc: Exception) -> str:
    """A validation error as its fields and messages, without the input values (they may be personal)."""
    if not isinstance(exc, ValidationError):
        return type(exc).__name__
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False, include_input=False)
    )


def dead_letter_value(raw: bytes, meta: RecordMeta, reason: str) -> dict[str, Any]:
    """The DLQ record: why, where from, and the original value (text, or base64 if not UTF-8)."""
    try:
        payload: dict[str, str] = {"text": raw.decode()}
    except UnicodeDecodeError:
        payload = {"base64": base64.b64encode(raw).decode()}
    return {
        "reason": reason[:2000],
        "source": {"topic": meta.topic, "partition": meta.partition, "offset": meta.offset},
        "payload": payload,
    }
