"""What to ask at a journey moment: relationship NPS near a renewal, transactional CSAT and CES after support.

Pure: a moment's label (any label; matched by the words in it) and whether a renewal is near give the
questions. A relationship question asks about the supplier as a whole (and, near a renewal, about each
dimension the account answers on); a transactional one about what just happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

# The dimensions asked about near a renewal when the account has answered on none yet.
DEFAULT_DIMENSIONS: Final = ("value", "support", "product")
# At most this many dimension questions: a survey people finish beats a thorough one they abandon.
MAX_DIMENSIONS: Final = 5
CADENCE_MOMENT: Final = "cadence"

Kind = Literal["relationship", "transactional"]
MomentKind = Literal["renewal", "support", "onboarding", "other"]

_SUPPORT_WORDS: Final = ("support", "ticket", "case", "incident")
_ONBOARDING_WORDS: Final = ("onboarding", "implementation", "go_live", "golive", "kickoff", "kick_off")


@dataclass(frozen=True, slots=True)
class Question:
    """One suggested question: the metric to ask on, the dimension it is about (None: overall), a wording."""

    kind: Kind
    metric: str
    text: str
    dimension: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The ``questions`` entry of a survey request (docs/api.md, "Survey requests")."""
        entry: dict[str, Any] = {"kind": self.kind, "metric": self.metric, "text": self.text}
        if self.dimension is not None:
            entry["dimension"] = self.dimension
        return entry


def moment_kind(moment: str) -> MomentKind:
    """What a moment's label is about, by the words in it (``renewal_approach``, ``support_close``, ...)."""
    label = moment.casefold().replace("-", "_").replace(" ", "_")
    if "renewal" in label:
        return "renewal"
    if any(word in label for word in _SUPPORT_WORDS):
        return "support"
    if any(word in label for word in _ONBOARDING_WORDS):
        return "onboarding"
    return "other"


def suggest(moment: str, *, renewal_near: bool, dimensions: Sequence[str] = ()) -> list[Question]:
    """The questions to ask at ``moment``; ``dimensions``: those the account already answers on."""
    kind = moment_kind(moment)
    if kind == "support":
        return [
            Question("transactional", "csat", "How satisfied are you with how your request was handled?"),
            Question("transactional", "ces", "How easy was it to get your issue resolved?"),
        ]
    if kind == "onboarding":
        return [
            Question("transactional", "ces", "How easy has it been to get started with us?"),
            Question("transactional", "csat", "How satisfied are you with the onboarding so far?"),
        ]
    questions = [Question("relationship", "nps", "How likely are you to recommend us to a colleague?")]
    if kind == "renewal" or renewal_near:
        asked = list(dict.fromkeys(d for d in dimensions if d and d != "overall"))[:MAX_DIMENSIONS]
        for dimension in asked or DEFAULT_DIMENSIONS:
            questions.append(
                # On the NPS scale (0 to 10), so each dimension reads like the overall question.
                Question(
                    "relationship",
                    "nps",
                    f"From 0 to 10, how would you rate our {dimension.replace('_', ' ')}?",
                    dimension=dimension,
                )
            )
    return questions
