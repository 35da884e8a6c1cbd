"""The analyzer's model: positions, divergence and alert rules as pure functions over plain data.

No I/O anywhere in this package: the caller loads the state, calls these functions and stores what
they return (see docs/model.md for the per-event recipe).

- ``normalise``: answers onto -1 … +1; the classic NPS / CSAT / NetEasy scores.
- ``decay``: the incremental, order-independent decayed state of one stakeholder (or dimension),
  and which version of an answer counts; ``answers``: folding one answer version into its states.
- ``positions``: stakeholders, roles, sides and the account mean.
- ``divergence``: the widest role gap, dispersion, trend and other windowed readings of a series.
- ``snapshot``: everything the rules look at for one account, and ``build_snapshot``.
- ``thresholds``: every rule setting with its default; ``rules``: the eight alert rules.
- ``lifecycle``: conditions against active alerts → open / update / resolve, with stable ids.
"""

from services.analyzer.model.alerts import (
    ALERT_TYPES,
    ActiveAlert,
    AlertStatus,
    AlertType,
    Condition,
    PositionPoint,
    Severity,
)
from services.analyzer.model.answers import HeldAnswer, StateKey, fold_answer, state_keys
from services.analyzer.model.decay import (
    DEFAULT_HALF_LIFE,
    EMPTY,
    Answer,
    DecayedState,
    Version,
    add,
    apply_answer,
    rebase,
    remove,
    replace,
    supersedes,
)
from services.analyzer.model.divergence import (
    Divergence,
    baseline,
    dispersion,
    divergence,
    peak_within,
    trend,
    value_at,
)
from services.analyzer.model.lifecycle import Transition, alert_id, transitions
from services.analyzer.model.normalise import (
    DEFAULT_SCALES,
    ClassicAnswer,
    ClassicScores,
    Scale,
    classic_scores,
    csat_percent,
    neteasy_score,
    normalise,
    normalise_answer,
    nps_class,
    nps_score,
)
from services.analyzer.model.positions import (
    OVERALL_DIMENSION,
    UNASSIGNED,
    RolePosition,
    SidePosition,
    StakeholderPosition,
    account_mean,
    dimension_key,
    role_positions,
    side_position,
    stakeholder_position,
)
from services.analyzer.model.rules import evaluate
from services.analyzer.model.snapshot import (
    AccountSnapshot,
    DimensionPositions,
    PositionChange,
    StakeholderRecord,
    build_snapshot,
)
from services.analyzer.model.thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = [
    "ALERT_TYPES",
    "DEFAULT_HALF_LIFE",
    "DEFAULT_SCALES",
    "DEFAULT_THRESHOLDS",
    "EMPTY",
    "OVERALL_DIMENSION",
    "UNASSIGNED",
    "AccountSnapshot",
    "ActiveAlert",
    "AlertStatus",
    "AlertType",
    "Answer",
    "ClassicAnswer",
    "ClassicScores",
    "Condition",
    "DecayedState",
    "DimensionPositions",
    "Divergence",
    "HeldAnswer",
    "PositionChange",
    "PositionPoint",
    "RolePosition",
    "Scale",
    "Severity",
    "SidePosition",
    "StakeholderPosition",
    "StakeholderRecord",
    "StateKey",
    "Thresholds",
    "Transition",
    "Version",
    "account_mean",
    "add",
    "alert_id",
    "apply_answer",
    "baseline",
    "build_snapshot",
    "classic_scores",
    "csat_percent",
    "dimension_key",
    "dispersion",
    "divergence",
    "evaluate",
    "fold_answer",
    "neteasy_score",
    "normalise",
    "normalise_answer",
    "nps_class",
    "nps_score",
    "peak_within",
    "rebase",
    "remove",
    "replace",
    "role_positions",
    "side_position",
    "stakeholder_position",
    "state_keys",
    "supersedes",
    "transitions",
    "trend",
    "value_at",
]
