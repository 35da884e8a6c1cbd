"""The dashboard's action-plan forms: make a plan on an alert, set its status, add a note.

Each form carries the CSRF token and needs a key with ``alerts:write``, like acknowledge and resolve; the
change goes through the plans service (recorded with the signed-in key's id, announced to subscribers),
then the browser returns to the page it came from.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from services.analyzer.dashboard import pages
from services.analyzer.dashboard.links import BASE, alerts_href
from services.analyzer.dashboard.routes import LoginDep, _assessor, page, read_form, redirect, safe_path
from services.analyzer.dashboard.session import Session, tokens_match
from services.analyzer.deps import get_writer_session
from services.analyzer.keys import ALERTS_WRITE
from services.analyzer.plans import service
from services.analyzer.plans.schemas import NoteCreate, PlanChange, PlanCreate
from shared.errors import Conflict, InvalidRequest, NotFound

router = APIRouter(prefix=BASE, include_in_schema=False)


async def _form(request: Request, login: Session) -> dict[str, str] | Response:
    """The form's fields, or the page that refuses it (unreadable, expired, or a key without the scope)."""
    form = await read_form(request)
    if form is None:
        return page(pages.message_page("Bad request", "The form could not be read.", csrf=login.csrf), 400)
    if not tokens_match(form.get("csrf"), login.csrf):
        text = "The form expired; reload the page and try again."
        return page(pages.message_page("Form expired", text, csrf=login.csrf), 403)
    if ALERTS_WRITE not in login.scopes:
        text = f"The key {login.key_id!r} you signed in with lacks the 'alerts:write' scope that action plans need."
        return page(pages.message_page("Not allowed", text, csrf=login.csrf), 403)
    return form


def _refused(exc: Exception, login: Session) -> Response:
    """The page for a refusal of the plans service."""
    text = str(exc.detail) if isinstance(exc, NotFound | Conflict | InvalidRequest) else str(exc)
    if isinstance(exc, NotFound):
        return page(pages.message_page("Not found", text, csrf=login.csrf), 404)
    if isinstance(exc, Conflict):
        return page(pages.message_page("Not changed", text, csrf=login.csrf), 409)
    return page(pages.message_page("Not changed", text, csrf=login.csrf), 422)


@router.post("/plans")
async def make_plan(request: Request, login: LoginDep) -> Response:
    """Make a plan on the form's alert: owner, due date, steps (one per line), a first note."""
    form = await _form(request, login)
    if isinstance(form, Response):
        return form
    steps = [line.strip() for line in form.get("steps", "").splitlines() if line.strip()]
    try:
        body = PlanCreate(
            owner=form.get("owner", ""),
            due_date=form.get("due_date") or None,  # type: ignore[arg-type]  # pydantic parses the ISO date
            steps=steps,
            note=form.get("note", "").strip() or None,
            by=form.get("by", "").strip() or None,
        )
    except ValidationError:
        text = "Name an owner (1 to 256 characters); a due date as a date; at most 50 steps of 1000 characters."
        return page(pages.message_page("Not changed", text, csrf=login.csrf), 422)
    alert_id = form.get("alert_id", "")
    try:
        async with asynccontextmanager(get_writer_session)(request) as session:
            plan = await service.create(
                session,
                _assessor(request),
                alert_id,
                owner=body.owner,
                due_date=body.due_date,
                steps=body.steps,
                note=body.note,
                by=body.by,
                key_id=login.key_id,
            )
            plan_id = plan.plan_id
    except (NotFound, Conflict, InvalidRequest) as exc:
        return _refused(exc, login)
    return redirect(safe_path(form.get("return_to"), alerts_href()) + f"#plan-{plan_id}")


@router.post("/plans/{plan_id}/{action}")
async def change_plan(plan_id: str, action: Literal["status", "notes"], request: Request, login: LoginDep) -> Response:
    """Set a plan's status (done asks the alert's two sides again) or add a progress note."""
    form = await _form(request, login)
    if isinstance(form, Response):
        return form
    try:
        if action == "status":
            change = PlanChange(status=form.get("status"))  # type: ignore[arg-type]  # validated here
        else:
            note = NoteCreate(text=form.get("text", ""), by=form.get("by", "").strip() or None)
    except ValidationError:
        text = "Choose a status the plan can move to." if action == "status" else "Write a note (1 to 4000 characters)."
        return page(pages.message_page("Not changed", text, csrf=login.csrf), 422)
    assessor = _assessor(request)
    try:
        async with asynccontextmanager(get_writer_session)(request) as session:
            if action == "status":
                config = getattr(request.app.state, "request_config", None)
                await service.change(session, assessor, config, plan_id, status=change.status, key_id=login.key_id)
            else:
                await service.add_note(session, plan_id, text=note.text, by=note.by, key_id=login.key_id)
    except (NotFound, Conflict, InvalidRequest) as exc:
        return _refused(exc, login)
    return redirect(safe_path(form.get("return_to"), alerts_href()) + f"#plan-{plan_id}")
