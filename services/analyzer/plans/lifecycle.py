"""The statuses of an action plan and the moves between them: pure.

A plan starts ``planned``; it may start (``in_progress``), be ``done`` or be ``abandoned``; a plan in
progress may be done or abandoned. Done and abandoned are final: a new plan is made instead.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

PlanStatus = Literal["planned", "in_progress", "done", "abandoned"]
STATUSES: Final[tuple[PlanStatus, ...]] = get_args(PlanStatus)
OPEN: Final[frozenset[str]] = frozenset({"planned", "in_progress"})
FINAL: Final[frozenset[str]] = frozenset({"done", "abandoned"})
MOVES: Final[dict[str, frozenset[str]]] = {
    "planned": frozenset({"in_progress", "done", "abandoned"}),
    "in_progress": frozenset({"done", "abandoned"}),
    "done": frozenset(),
    "abandoned": frozenset(),
}


def refusal(current: str, wanted: str) -> str | None:
    """Why a plan in ``current`` cannot move to ``wanted``; None when it can (staying put is no move)."""
    if wanted == current:
        return None
    if wanted in MOVES.get(current, frozenset()):
        return None
    if current in FINAL:
        return f"the plan is {current}: a plan that is done or abandoned does not change; make a new plan"
    allowed = ", ".join(sorted(MOVES.get(current, frozenset()))) or "none"
    return f"a plan cannot go from {current} to {wanted} (from {current}: {allowed})"


def event_type(before: str, after: str) -> str:
    """The webhook type of a change: ``action.completed`` when the plan reaches a final status."""
    return "action.completed" if after in FINAL and before not in FINAL else "action.updated"
