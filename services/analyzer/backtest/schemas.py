"""The body of ``GET /v1/backtest``: each rule's figures over the renewals, the calibration of the risk."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class RuleView(BaseModel):
    """One rule's figures over the renewals."""

    rule: str
    kind: str = Field(description="risk_alert (the renewal risk), divergence_alert or classic")
    description: str
    flagged: int = Field(description="renewals the rule flagged inside the lookback window")
    caught: int = Field(description="churned or downsized renewals flagged")
    false_alarms: int = Field(description="renewed accounts flagged, saves apart")
    saves: int = Field(
        default=0, description="renewed accounts flagged where a plan done in the window preceded the flag clearing"
    )
    missed: int = Field(description="churned or downsized renewals not flagged")
    precision: float | None = Field(description="caught / flagged; null when nothing was flagged")
    recall: float | None = Field(description="caught / (churned + downsized); null without a bad outcome")
    median_lead_days: float | None = Field(description="median days from the first flag to the renewal, over caught")
    flags_per_bad_renewal: float | None = Field(
        description="flagged / (churned + downsized): the alert budget, 1 when a rule flags as many as go badly"
    )


class RenewalView(BaseModel):
    """One renewal and, per rule, how many days ahead it was flagged (null: not flagged)."""

    account_id: str
    renewal_at: datetime
    outcome: str
    lead_days: dict[str, float | None]
    saved_by: list[str] = Field(default_factory=list, description="the rules for which this renewal is a save")


class CalibrationGroupView(BaseModel):
    """One decile of the risk's predictions."""

    renewals: int
    predicted: float = Field(description="mean predicted probability in the decile")
    observed: float = Field(description="share of the decile's renewals that were churned or downsized")


class CalibrationView(BaseModel):
    """The renewal risk a horizon before each renewal against what happened."""

    horizon_days: int = Field(description="how long before each renewal the prediction was read")
    renewals: int = Field(description="renewals with a known outcome and a prediction")
    bad: int
    brier: float | None = Field(description="mean squared error of the predictions (0 is perfect)")
    brier_base_rate: float | None = Field(description="the Brier score of always predicting the base rate")
    groups: list[CalibrationGroupView] = Field(description="deciles of the predictions, lowest first")


class BacktestView(BaseModel):
    """The backtest over every renewal with a known outcome."""

    lookback_days: int
    account_prefix: str | None
    renewals: int
    outcomes: dict[str, int]
    bad_outcomes: int = Field(description="churned + downsized")
    unknown_outcomes: int = Field(description="renewal_outcome moments without a known attributes.outcome")
    recommended: str = Field(
        description="the rule a CRM should subscribe to: the one the held-out backtest supports (docs/model.md)"
    )
    rules: list[RuleView]
    calibration: CalibrationView
    detail: list[RenewalView] | None = Field(default=None, description="per renewal, with detail=true")
