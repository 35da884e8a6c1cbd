"""``DELETE /v1/stakeholders/{id}``: erase a person (docs/api.md, "Erasure"; docs/operations.md, "Erasure")."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.analyzer.deps import FORBIDDEN, PeopleEraseKey
from services.analyzer.people import service
from services.analyzer.people.schemas import ErasureView
from shared.errors import ERROR_RESPONSES, InvalidRequest, Unavailable
from shared.limits import MAX_PERSON_ID_CHARS

router = APIRouter(prefix="/v1/stakeholders", tags=["people"])


@router.delete(
    "/{stakeholder_id:path}",
    response_model=ErasureView,
    responses={**ERROR_RESPONSES, **FORBIDDEN},
    summary="Erase a person: every answer, comment, name and id, in every account (GDPR Art. 17)",
)
async def erase_person(stakeholder_id: str, request: Request, key: PeopleEraseKey) -> ErasureView:
    """Erase the person a stakeholder id or alias (e.g. an e-mail) names; repeating it is harmless.

    Needs a key with the ``people:erase`` scope; the key's id is recorded with the erasure.

    Their directory entries, aliases, answers and comments are deleted in every account, their accounts
    are recomputed without them, what identified them is redacted from alerts, outbox records and
    webhook bodies, and their data keys on Kafka are destroyed. An id that names nobody still records
    the erasure, so that records naming it that are still in flight are not applied.
    """
    identifier = stakeholder_id.strip()
    if not identifier or len(identifier) > MAX_PERSON_ID_CHARS:
        detail: list[dict[str, Any]] = [
            {
                "index": None,
                "field": "stakeholder_id",
                "message": f"must be 1 to {MAX_PERSON_ID_CHARS} characters",
                "type": "string_length",
            }
        ]
        raise InvalidRequest(detail)
    state = request.app.state
    try:
        report = await service.erase(
            state.sessions,
            state.writer_sessions,
            state.assessor,
            identifier,
            by=key.id,
            shredder=getattr(state, "keyring", None),
        )
    except service.ShreddingFailed as exc:
        raise Unavailable(
            "the person's data keys on Kafka could not be destroyed, so nothing was erased yet; retry",
            retry_after_s=10,
        ) from exc
    return ErasureView(
        erasure_id=report.erasure_id,
        erased_at=report.erased_at,
        erased_by=report.erased_by,
        accounts=report.accounts,
        counts=report.counts,
    )
