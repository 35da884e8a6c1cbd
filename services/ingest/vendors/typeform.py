"""Typeform: the ``form_response`` webhook; every NPS, opinion scale and rating answer becomes one event."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from services.ingest.vendors.base import (
    JsonObject,
    PayloadError,
    Respondent,
    SignatureError,
    UnusableAnswerError,
    VendorResult,
    delivery_key,
    event_id,
    hmac_digest,
    items,
    load_object,
    make_event,
    member,
    number,
    parse_time,
    require_identified,
    required_header,
    required_member,
    required_text,
    response_id,
    same,
    secret_key,
    shown,
    text,
)
from services.ingest.vendors.links import LINK_TOKEN_FIELD, NO_LINK_SECRET, LinkPolicy
from shared.events import Metric, Scale

SIGNATURE_HEADER: Final = "typeform-signature"
REQUEST_ID_FIELD: Final = "request_id"  # the hidden field carrying a survey request's id
_SCORED_TYPES: Final = frozenset({"nps", "opinion_scale", "rating"})


@dataclass(frozen=True, slots=True)
class _Scored:
    ref: str
    metric: Metric
    score: float
    scale: Scale | None


@dataclass(frozen=True, slots=True)
class TypeformAdapter:
    """Typeform answers: ``nps`` as NPS, ``opinion_scale``/``rating`` as ratings; the field ref is the dimension.

    The respondent comes from hidden fields, which are survey-link parameters: ``signed_link`` when the
    ``link_token`` hidden field vouches for them, else ``unverified`` (services/ingest/vendors/links.py).
    """

    links: LinkPolicy = NO_LINK_SECRET

    @property
    def source(self) -> str:
        """The vendor's name."""
        return "typeform"

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> None:
        """Check ``sha256=`` + base64(HMAC-SHA256(secret, body)); Typeform signs no timestamp."""
        key = secret_key(secret)
        signature = required_header(headers, SIGNATURE_HEADER)
        expected = "sha256=" + base64.b64encode(hmac_digest(key, body, "sha256")).decode()
        if not same(signature, expected):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")

    def parse(self, body: bytes, headers: Mapping[str, str]) -> VendorResult:
        """Map a form response onto one event per scored answer; a long text answer is their comment."""
        payload = load_object(body)
        event_type = text(payload.get("event_type"))
        if event_type != "form_response":
            return VendorResult.nothing(f"event_type {shown(event_type)} carries no form response")
        form = required_member(payload, "form_response", path="form_response")
        token = required_text(form, "token", path="form_response.token")
        scored, comments, skipped = _answers(form)
        if not scored:
            return VendorResult.nothing(
                f"form response {token}: " + ("; ".join(skipped) or "no nps, opinion_scale or rating answer"),
            )
        occurred_at = parse_time(form.get("submitted_at"), path="form_response.submitted_at")
        hidden = member(form, "hidden", path="form_response.hidden")
        named = Respondent(
            stakeholder_id=text(hidden.get("stakeholder_id")),
            account_id=text(hidden.get("account_id")),
            stakeholder_ids=(text(hidden.get("email")),),
        )
        email = text(hidden.get("email"))
        link = self.links.identify(
            token=text(hidden.get(LINK_TOKEN_FIELD)),
            account_id=named.account_id,
            person_id=named.stakeholder_id or email,
            named=named,
            # The token signs the stakeholder id when the link has one, else the email.
            signed=Respondent(stakeholder_id=named.stakeholder_id, account_id=named.account_id)
            if named.stakeholder_id
            else Respondent(account_id=named.account_id, stakeholder_ids=(email,)),
        )
        try:
            require_identified(link.respondent)
        except UnusableAnswerError as exc:
            return VendorResult.nothing(f"form response {token}: {exc.reason}")
        form_id = text(form.get("form_id")) or "form"
        delivery = delivery_key(text(payload.get("event_id")), body)
        events = []
        for answer in scored:
            try:
                events.append(
                    make_event(
                        source=self.source,
                        event_id=event_id(self.source, delivery, answer.ref),
                        # A signed link answers each question of a form once, however often it is submitted.
                        response_id=(
                            response_id(self.source, "link", link.token_digest, form_id, answer.ref)
                            if link.token_digest is not None
                            else response_id(self.source, token, answer.ref)
                        ),
                        occurred_at=occurred_at,
                        metric=answer.metric,
                        score=answer.score,
                        scale=answer.scale,
                        respondent=link.respondent,
                        identity=link.basis,
                        comment="\n\n".join(comments),
                        dimension=answer.ref,
                        # The survey request the link was sent for (hidden field ``request_id``).
                        request_id=text(hidden.get(REQUEST_ID_FIELD)),
                    ),
                )
            except UnusableAnswerError as exc:
                skipped.append(f"field {answer.ref}: {exc.reason}")
        reason = "; ".join(skipped) or None
        if not events:
            return VendorResult.nothing(f"form response {token}: {reason}")
        return VendorResult(events=tuple(events), reason=reason, unverified_reason=link.refusal)


def _answers(form: JsonObject) -> tuple[list[_Scored], list[str], list[str]]:
    """The scored answers, the long text answers, and why any scored answer was skipped."""
    fields = _definitions(form)
    scored: list[_Scored] = []
    comments: list[str] = []
    skipped: list[str] = []
    for index, answer in enumerate(items(form, "answers", path="form_response.answers")):
        path = f"form_response.answers[{index}]"
        if not isinstance(answer, dict):
            raise PayloadError(f"{path} must be an object")
        field = member(answer, "field", path=f"{path}.field")
        kind = text(field.get("type"))
        if kind == "long_text":
            comments.extend(filter(None, [text(answer.get("text"))]))
            continue
        if kind not in _SCORED_TYPES:
            continue
        field_id = text(field.get("id"))
        ref = text(field.get("ref")) or field_id
        if ref is None:
            skipped.append(f"{path}: the field has neither ref nor id")
            continue
        try:
            scored.append(_scored(ref, kind, answer, fields.get(field_id or "") or fields.get(ref, {})))
        except UnusableAnswerError as exc:
            skipped.append(f"field {ref}: {exc.reason}")
    return scored, comments, skipped


def _definitions(form: JsonObject) -> dict[str, JsonObject]:
    """The form definition's fields by id and by ref."""
    definition = member(form, "definition", path="form_response.definition")
    fields: dict[str, JsonObject] = {}
    for field in items(definition, "fields", path="form_response.definition.fields"):
        if isinstance(field, dict):
            for key in (text(field.get("id")), text(field.get("ref"))):
                if key is not None:
                    fields.setdefault(key, field)
    return fields


def _scored(ref: str, kind: str, answer: JsonObject, definition: JsonObject) -> _Scored:
    score = number(answer.get("number"))
    if score is None:
        raise UnusableAnswerError("the answer carries no number")
    if kind == "nps":
        return _Scored(ref=ref, metric="nps", score=score, scale=None)
    properties = member(definition, "properties", path=f"definition of field {ref}.properties")
    steps = number(properties.get("steps"))
    if steps is None or not steps.is_integer() or steps < 2:
        # Guessing Typeform's builder default would silently put the answer on the wrong scale.
        raise UnusableAnswerError("the form definition gives no properties.steps for this field")
    # A rating (stars, hearts, ...) always starts at 1; an opinion scale at 0 unless start_at_one.
    low = 1 if kind == "rating" or properties.get("start_at_one") is True else 0
    return _Scored(ref=ref, metric="rating", score=score, scale=Scale(min=low, max=low + steps - 1))
