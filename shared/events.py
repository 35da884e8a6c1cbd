"""Canonical event schemas (docs/api.md, "Events"): what ingest accepts and what travels on Kafka.

Every event is one of four types, told apart by the field ``type``. Validation is strict: times must
be RFC 3339 strings with an offset, ids have bounded lengths, scores must lie on their scale. The
same models parse the Kafka records in the analyzer, so a record that reaches it has passed them.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)

from shared.event_time import calendar_error, date_error
from shared.limits import (
    DEFAULT_SCALE_BOUNDS,
    MAX_ALIAS_CHARS,
    MAX_ALIASES,
    MAX_ATTRIBUTES_BYTES,
    MAX_COMMENT_CHARS,
    MAX_EVENT_ID_CHARS,
    MAX_IDENTITIES,
    MAX_LABEL_CHARS,
    MAX_NAME_CHARS,
    MAX_PERSON_ID_CHARS,
    MAX_RESPONSE_ID_CHARS,
)
from shared.personal import record_key_digest

# RFC 3339 date-time: full date, "T" (or space, which RFC 3339 allows), time, optional fraction,
# and a mandatory offset. pydantic alone would also accept Unix numbers and naive times.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$",
)

EventId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_EVENT_ID_CHARS)]
# An account id appears in the analyzer's URLs (/v1/accounts/{account_id}), so it cannot hold "/".
AccountId = Annotated[str, StringConstraints(min_length=1, max_length=128, strip_whitespace=True, pattern=r"^[^/]+$")]
PersonId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PERSON_ID_CHARS, strip_whitespace=True)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LABEL_CHARS, strip_whitespace=True)]
Alias = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ALIAS_CHARS, strip_whitespace=True)]
# The id of a survey request (docs/api.md, "Survey requests"): what the analyzer gave, ``req_`` and 32 hex digits.
REQUEST_ID_PATTERN: Final = r"^req_[0-9a-f]{32}$"
RequestId = Annotated[str, StringConstraints(pattern=REQUEST_ID_PATTERN)]

Metric = Literal["nps", "csat", "ces", "neteasy", "rating"]
Role = Literal[
    "procurement",
    "it",
    "finance",
    "end_user",
    "executive_sponsor",
    "champion",
    "legal",
    "other",
]
Side = Literal["client", "supplier"]
# How the respondent of a vendor answer is known (docs/api.md, "survey_response"): "vendor" from the
# vendor's own authenticated record, "signed_link" from survey-link parameters a link token vouches for,
# "unverified" from link parameters alone (editable by whoever holds the link). Absent: posted with an
# ingest API key, which vouches for the ids itself.
IdentityBasis = Literal["vendor", "signed_link", "unverified"]


# Namespace for server-assigned event ids (see ``assign_event_id``).
_EVENT_ID_NAMESPACE: Final = uuid.UUID("6f1d3c1e-8a4b-4d7e-9a55-0b8a3f9c2e10")


def _require_rfc3339(value: object) -> object:
    if isinstance(value, datetime):
        # Already parsed (e.g. a model built in code); AwareDatetime still demands an offset.
        return value
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-05-01T10:00:00Z")
    return value


class Scale(BaseModel):
    """The scale an answer was given on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float
    max: float
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if not (math.isfinite(self.min) and math.isfinite(self.max)):
            raise ValueError("scale bounds must be finite numbers")
        if self.min >= self.max:
            raise ValueError("scale.min must be below scale.max")
        return self


DEFAULT_SCALES: Final[dict[str, Scale]] = {
    metric: Scale(min=low, max=high, higher_is_better=better)
    for metric, (low, high, better) in DEFAULT_SCALE_BOUNDS.items()
}


class Identities(BaseModel):
    """Every id under which a vendor named the respondent and the organisation.

    Set by the vendor webhooks (docs/vendors/README.md, "Identities"): the analyzer resolves these against the
    directory (stakeholder ids, aliases, emails) when ``account_id``/``stakeholder_id`` are not known.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    stakeholder: list[Alias] = Field(default_factory=list, max_length=MAX_IDENTITIES)
    account: list[Alias] = Field(default_factory=list, max_length=MAX_IDENTITIES)


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=MAX_COMMENT_CHARS)

    event_id: EventId | None = None
    occurred_at: AwareDatetime

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _rfc3339(cls, value: object) -> object:
        return _require_rfc3339(value)

    @field_validator("occurred_at")
    @classmethod
    def _in_calendar(cls, value: datetime) -> datetime:
        if (reason := calendar_error(value)) is not None:
            raise ValueError(reason)
        return value


class SurveyResponse(_EventBase):
    """One answer of one stakeholder: NPS, CSAT, CES, NetEasy or a rating on an explicit scale."""

    # Field order matters: each validator below sees the fields declared before it, so every
    # error is reported against the field that is wrong.
    type: Literal["survey_response"]
    identities: Identities | None = None
    account_id: AccountId | None = Field(default=None, validate_default=True)
    stakeholder_id: PersonId | None = Field(default=None, validate_default=True)
    metric: Metric
    scale: Scale | None = Field(default=None, validate_default=True)
    score: float
    dimension: Label | None = None
    moment: Label | None = None
    comment: Annotated[str, StringConstraints(max_length=MAX_COMMENT_CHARS)] | None = None
    source: Label | None = None
    response_id: Annotated[str, StringConstraints(min_length=1, max_length=MAX_RESPONSE_ID_CHARS)] | None = None
    identity: IdentityBasis | None = None
    # The survey request this answer fulfils (the analyzer's ``request_id``), carried round a survey tool.
    request_id: RequestId | None = None

    @field_validator("account_id")
    @classmethod
    def _account_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A vendor answer may name only the person: its account is then the resolved person's.
        identities = info.data.get("identities")
        if value is None and not (identities and (identities.account or identities.stakeholder)):
            raise ValueError("account_id is required")
        return value

    @field_validator("stakeholder_id")
    @classmethod
    def _stakeholder_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        identities = info.data.get("identities")
        if value is None and not (identities and identities.stakeholder):
            raise ValueError("stakeholder_id is required")
        return value

    @field_validator("scale")
    @classmethod
    def _scale_fits_metric(cls, value: Scale | None, info: ValidationInfo) -> Scale | None:
        metric = info.data.get("metric")
        if metric == "rating" and value is None:
            raise ValueError("scale is required for metric 'rating'")
        if metric == "nps" and value is not None and value != DEFAULT_SCALES["nps"]:
            raise ValueError("nps is always answered on 0-10, higher is better")
        return value

    @field_validator("score", mode="before")
    @classmethod
    def _numeric(cls, value: object) -> object:
        # JSON true/false would otherwise pass as 1/0.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("score must be a number")
        if not math.isfinite(value):
            raise ValueError("score must be a finite number")
        return value

    @field_validator("score")
    @classmethod
    def _on_scale(cls, value: float, info: ValidationInfo) -> float:
        metric = info.data.get("metric")
        if metric is None or (metric == "rating" and info.data.get("scale") is None):
            return value  # the metric or scale error is reported already
        scale = info.data.get("scale") or DEFAULT_SCALES[metric]
        if not scale.min <= value <= scale.max:
            raise ValueError(f"score {value:g} is outside the scale {scale.min:g}..{scale.max:g}")
        return value

    @property
    def effective_scale(self) -> Scale:
        """The explicit scale, else the metric's default one."""
        return self.scale if self.scale is not None else DEFAULT_SCALES[self.metric]


class JourneyMoment(_EventBase):
    """A moment at which perception forms: onboarding, a support close, renewal approaching, ..."""

    type: Literal["journey_moment"]
    account_id: AccountId
    moment: Label
    stakeholder_id: PersonId | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str)) > MAX_ATTRIBUTES_BYTES:
            raise ValueError(f"attributes must serialise to at most {MAX_ATTRIBUTES_BYTES} bytes")
        return value


class AccountEvent(_EventBase):
    """Directory upsert of an account; fields left out (or null) are not changed."""

    type: Literal["account"]
    account_id: AccountId
    name: Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS)] | None = None
    segment: Label | None = None
    renewal_date: date | None = None
    annual_value: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    aliases: list[Alias] = Field(default_factory=list, max_length=MAX_ALIASES)

    @field_validator("renewal_date")
    @classmethod
    def _renewal_in_calendar(cls, value: date | None) -> date | None:
        if value is not None and (reason := date_error(value)) is not None:
            raise ValueError(reason)
        return value


class StakeholderEvent(_EventBase):
    """Directory upsert of a stakeholder; fields left out (or null) are not changed."""

    type: Literal["stakeholder"]
    account_id: AccountId
    stakeholder_id: PersonId
    name: Annotated[str, StringConstraints(max_length=MAX_NAME_CHARS)] | None = None
    role: Role | None = None
    side: Side | None = None
    influence: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] | None = None
    # Whether this person decides the renewal. Like every directory field, left out (or null) it is
    # not changed: a person never flagged decides as their role does by default (procurement, finance
    # and the executive sponsor do; ``Thresholds.decision_roles``).
    decision_maker: bool | None = Field(
        default=None,
        description=(
            "whether this person decides the renewal; left out or null: not changed "
            "(a person never flagged decides as their role does by default)"
        ),
    )
    # Whether the analyzer may ask this person for feedback (survey requests); left out or null: not
    # changed, and a person never flagged may be asked.
    contactable: bool | None = Field(
        default=None,
        description=(
            "whether survey requests may ask this person; left out or null: not changed "
            "(a person never flagged may be asked)"
        ),
    )
    aliases: list[Alias] = Field(default_factory=list, max_length=MAX_ALIASES)

    @field_validator("decision_maker", "contactable", mode="before")
    @classmethod
    def _boolean(cls, value: object, info: ValidationInfo) -> object:
        # JSON true/false only: pydantic alone would also take "yes", 1, "off", ...
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"{info.field_name} must be true, false or null")
        return value


Event = Annotated[
    SurveyResponse | JourneyMoment | AccountEvent | StakeholderEvent,
    Field(discriminator="type"),
]
EVENT_ADAPTER: Final[TypeAdapter[Event]] = TypeAdapter(Event)
EVENT_TYPES: Final = ("survey_response", "journey_moment", "account", "stakeholder")


def assign_event_id(event: Event) -> str:
    """Give an event without ``event_id`` a UUID derived from its content.

    A client that retries the same body after a timeout gets the same id back, so even events sent
    without an idempotency key are not doubled by a retry. Two bodies that are byte-for-byte the same
    event (same person, same instant, same answer) are the same fact, so collapsing them is correct.
    """
    if event.event_id is not None:
        return event.event_id
    canonical = event.model_dump_json(exclude={"event_id"}, exclude_none=True)
    event.event_id = str(uuid.uuid5(_EVENT_ID_NAMESPACE, canonical))
    return event.event_id


def event_key(event: Event, *, secret: bytes = b"") -> str:
    """The Kafka key: the account, so one account's events stay in order on one partition.

    A vendor answer whose account is not known yet is keyed by its first account identity, else by
    a digest of its first person identity (keyed with ``secret``; an identity may be an e-mail, and
    no personal data goes into a record key), so that its versions still share a partition.
    """
    if event.account_id is not None:
        return event.account_id
    assert isinstance(event, SurveyResponse)
    assert event.identities is not None
    if event.identities.account:
        return event.identities.account[0]
    return record_key_digest(event.identities.stakeholder[0], secret)


def encode_event(event: Event) -> bytes:
    """Serialise an event for Kafka: compact JSON without null fields, with its id.

    An event without an id gets the one ``assign_event_id`` derives, in the same single encoding:
    the id is the digest of the event's JSON without it, and since ``event_id`` is the first field,
    the record is that JSON with the id put in front.
    """
    if event.event_id is not None:
        return event.model_dump_json(exclude_none=True).encode()
    canonical = event.model_dump_json(exclude={"event_id"}, exclude_none=True)
    event.event_id = str(uuid.uuid5(_EVENT_ID_NAMESPACE, canonical))
    return f'{{"event_id":"{event.event_id}",{canonical[1:]}'.encode()


def decode_event(raw: bytes) -> Event:
    """Parse a Kafka record value; raises ``pydantic.ValidationError`` on a malformed record."""
    return EVENT_ADAPTER.validate_json(raw)
