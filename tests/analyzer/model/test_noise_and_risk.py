"""The answer noise behind every interval, the standard errors and lower bounds it gives, who decides a
renewal, and the renewal-risk model: its factors, its fit on a portfolio and its replay (all pure)."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analyzer.model import (
    DEFAULT_HALF_LIFE,
    EMPTY,
    AccountSnapshot,
    Answer,
    DecayedState,
    HeldAnswer,
    RolePosition,
    StakeholderRecord,
    Thresholds,
    apply_answer,
    build_snapshot,
    divergence,
    evaluate,
    normalise_answer,
    remove,
    role_positions,
    stakeholder_position,
    supersedes,
)
from services.analyzer.model.account_state import AccountState, PersonFacts
from services.analyzer.model.decay import decay
from services.analyzer.model.noise import MAX_DOF_PER_PERSON, answer_noise
from services.analyzer.model.positions import ROLE_SPREAD_PRIOR
from services.analyzer.model.replay import AnswerVersion, Fact, Moment, replay, risk_at
from services.analyzer.model.risk import (
    DEFAULT_RISK_MODEL,
    DIRECTION,
    FACTORS,
    REFERENCE,
    Factor,
    Risk,
    RiskModel,
    score,
    shrink,
    sigmoid,
)
from services.analyzer.model.risk_fit import (
    MIN_PER_OUTCOME,
    MIN_RENEWALS,
    Example,
    NotEnoughRenewals,
    fit,
    predict,
    validate,
)
from services.analyzer.model.snapshot import assess_risk
from tests.analyzer.model.factories import at, create_answer, create_person, create_state

TH = Thresholds()
TOLERANCE = 1e-9


# --- the spread of one person's answers ---------------------------------------------------------


def test_spread_needs_two_answers() -> None:
    assert EMPTY.spread is None
    assert create_state((0.4, 0)).spread is None
    assert create_state((0.4, 0), (0.4, 5)).spread == 0.0


@pytest.mark.parametrize("values", [(0.2, 0.6), (-1.0, 1.0, 0.0), (0.8, 0.6, 0.6, -0.2, 0.4)])
def test_spread_of_answers_given_at_one_instant_is_their_variance(values: tuple[float, ...]) -> None:
    state = create_state(*[(value, 10) for value in values])
    assert state.spread == pytest.approx(statistics.pvariance(values))


def test_spread_weighs_older_answers_less() -> None:
    # Weights 0.5 and 1: mean -1/3, weighted mean of squares 1, so 1 - 1/9.
    assert create_state((1.0, 0), (-1.0, 90)).spread == pytest.approx(8 / 9)


def test_removing_an_answer_takes_its_square_out_too() -> None:
    state = create_state((0.5, 0), (-0.2, 30))
    extra = create_answer(1.0, 10)
    again = remove(apply_answer(state, extra, held=None)[0], extra)
    assert again.q == pytest.approx(state.q, abs=TOLERANCE)
    assert again.spread == pytest.approx(state.spread, abs=TOLERANCE)


# An answer in a stream: (response id, seconds after the start, value, event id).
Item = tuple[str, int, float, str]
YEARS = 365 * 86_400


def _fold(items: Sequence[Item]) -> tuple[DecayedState, dict[str, Answer]]:
    """What the caller does per event: keep the held version per response id, fold it into the state."""
    held: dict[str, Answer] = {}
    state = EMPTY
    for response_id, seconds, value, event_id in items:
        answer = Answer(value, at(0) + timedelta(seconds=seconds), event_id)
        state, changed = apply_answer(state, answer, held=held.get(response_id))
        if changed:
            held[response_id] = answer
    return state, held


def _sums(answers: Sequence[Answer], ref: datetime) -> tuple[float, float, float]:
    """S, W and Q of these answers at ``ref``, from scratch."""
    weighted = [(a.value, decay(ref - a.at, DEFAULT_HALF_LIFE)) for a in answers]
    return (
        math.fsum(v * w for v, w in weighted),
        math.fsum(w for _, w in weighted),
        math.fsum(v * v * w for v, w in weighted),
    )


def _winners(items: Sequence[Item]) -> list[Answer]:
    """The version of each answer that counts."""
    latest: dict[str, Answer] = {}
    for response_id, seconds, value, event_id in items:
        answer = Answer(value, at(0) + timedelta(seconds=seconds), event_id)
        if supersedes(latest[response_id].version if response_id in latest else None, answer.version):
            latest[response_id] = answer
    return list(latest.values())


def _assert_sums(state: DecayedState, expected: tuple[float, float, float]) -> None:
    for got, want in zip((state.s, state.w, state.q), expected, strict=True):
        assert got == pytest.approx(want, rel=TOLERANCE, abs=TOLERANCE)


def _streams() -> st.SearchStrategy[list[Item]]:
    version = st.tuples(
        st.sampled_from(["r1", "r2", "r3", "r4", "r5", "r6"]),
        # Few distinct times as well as many, so that same-instant versions (ties) come up.
        st.one_of(st.sampled_from([0, 86_400, 90 * 86_400]), st.integers(0, 3 * YEARS)),
        st.floats(-1, 1, allow_nan=False),
    )
    return st.lists(version, min_size=1, max_size=40).map(
        lambda rows: [(rid, sec, val, f"ev-{i:03d}") for i, (rid, sec, val) in enumerate(rows)]
    )


@settings(max_examples=300)
@given(items=_streams(), data=st.data())
def test_the_sum_of_squares_does_not_depend_on_the_order(items: list[Item], data: st.DataObject) -> None:
    in_order, _ = _fold(sorted(items, key=lambda i: (i[1], i[3])))
    shuffled, held = _fold(data.draw(st.permutations(items)))
    assert in_order.ref is not None
    assert shuffled.ref == in_order.ref
    expected = _sums(_winners(items), in_order.ref)
    _assert_sums(in_order, expected)
    _assert_sums(shuffled, expected)
    # Taking answers out again, in any order, leaves the sums of the ones still held.
    gone = data.draw(st.lists(st.sampled_from(sorted(held)), unique=True, max_size=len(held) - 1))
    for response_id in data.draw(st.permutations(gone)):
        shuffled = remove(shuffled, held.pop(response_id))
    _assert_sums(shuffled, _sums(list(held.values()), in_order.ref))


# --- the noise of one answer --------------------------------------------------------------------


def test_noise_is_the_default_without_repeated_answers() -> None:
    assert answer_noise([], default=0.2, prior_answers=10) == 0.2
    singles = [create_state((0.9, 0)), create_state((-0.5, 3)), EMPTY]
    assert answer_noise(singles, default=0.2, prior_answers=10) == pytest.approx(0.2)
    assert answer_noise(singles, default=0.2, prior_answers=0) == 0.2


def _wavering(middle: float, answers: int = 8) -> DecayedState:
    """A person whose answers fall 0.3 either side of ``middle``, all at one instant (spread 0.09)."""
    return create_state(*[(middle + offset, 7) for offset in (0.3, -0.3) * (answers // 2)])


def test_noise_tends_to_the_peoples_own_spread_as_answers_accumulate() -> None:
    own = math.sqrt(0.09 * 8 / 7)  # 8 answers: the spread around their own mean reads 7/8 of the truth
    noises = [
        answer_noise([_wavering(i / people - 0.5) for i in range(people)], default=0.2, prior_answers=10)
        for people in (1, 10, 100)
    ]
    assert 0.2 < noises[0] < noises[1] < noises[2] < own
    assert noises[2] == pytest.approx(own, abs=0.002)
    assert answer_noise([_wavering(0.1)], default=0.2, prior_answers=0) == pytest.approx(own)


def test_one_chatty_person_counts_as_at_most_max_dof_answers() -> None:
    chatty, chattier = _wavering(0.0, 50), _wavering(0.0, 1000)

    def expected(n: int) -> float:
        return math.sqrt((10 * 0.2**2 + MAX_DOF_PER_PERSON * 0.09 * n / (n - 1)) / (10 + MAX_DOF_PER_PERSON))

    assert answer_noise([chatty], default=0.2, prior_answers=10) == pytest.approx(expected(50))
    assert answer_noise([chattier], default=0.2, prior_answers=10) == pytest.approx(expected(1000))
    # A thousand answers from one person say less about the noise than eight from each of three.
    three = [_wavering(0.0), _wavering(0.2), _wavering(-0.2)]
    assert answer_noise([chattier], default=0.2, prior_answers=10) < answer_noise(three, default=0.2, prior_answers=10)


def test_the_snapshot_measures_noise_on_the_client_people_only() -> None:
    client = StakeholderRecord("ivan", "it", "client", 1.0, _wavering(0.1))
    supplier = StakeholderRecord("sam", "other", "supplier", 1.0, _wavering(0.5, 200))
    newcomer = StakeholderRecord("new", "unassigned", "client", 1.0, _wavering(-0.5, 200))
    snapshot = build_snapshot(account_id="acme", as_of=at(7), stakeholders=[client, supplier, newcomer])
    alone = answer_noise([client.state], default=TH.answer_noise, prior_answers=TH.noise_prior_answers)
    assert snapshot.answer_noise == pytest.approx(alone)


# --- standard errors ----------------------------------------------------------------------------


def read(state: DecayedState, day: float, noise: float | None = 0.2) -> float:
    """A person's standard error as of ``day``."""
    return stakeholder_position("p", state, role="it", side="client", influence=1.0, at=at(day), noise=noise).se


def test_a_persons_se_is_the_noise_over_the_root_of_their_weight() -> None:
    state = create_state((0.5, 0), (0.7, 30), (0.6, 60))
    assert read(state, 60) == pytest.approx(0.2 / math.sqrt(state.weight_at(at(60))))
    assert read(state, 60) < read(create_state((0.6, 60)), 60)


def test_a_persons_se_grows_as_their_answers_age() -> None:
    one = create_state((0.5, 0))
    # One fresh answer: the noise itself; a half-life later √2 times it; two half-lives, twice.
    assert [read(one, day) for day in (0, 90, 180)] == pytest.approx([0.2, 0.2 * math.sqrt(2), 0.4])
    ages = [read(one, day) for day in range(0, 400, 20)]
    assert ages == sorted(ages)


def test_no_answer_or_no_noise_is_no_evidence() -> None:
    assert read(EMPTY, 0) == math.inf
    assert read(create_state((0.5, 0)), 0, noise=None) == math.inf


def test_a_role_of_one_person_is_as_uncertain_as_the_person_and_the_role_prior() -> None:
    (role,) = role_positions([create_person("a", "it", 0.3, se=0.1)])
    assert role.se == pytest.approx(math.hypot(0.1, ROLE_SPREAD_PRIOR))
    (unmeasured,) = role_positions([create_person("a", "it", 0.3, se=math.inf)])
    assert unmeasured.se == math.inf


def test_two_people_who_agree_measure_a_role_better_than_one() -> None:
    (one,) = role_positions([create_person("a", "it", 0.3, se=0.1)])
    (two,) = role_positions([create_person("a", "it", 0.3, se=0.1), create_person("b", "it", 0.3, se=0.1)])
    # Equal weights: Var = (se² + b²) / 2, where the spread prior b² is now shared by two people.
    assert two.se == pytest.approx(math.sqrt((0.1**2 + ROLE_SPREAD_PRIOR**2 / 2) / 2))
    assert two.se < one.se
    (apart,) = role_positions([create_person("a", "it", 0.1, se=0.1), create_person("b", "it", 0.5, se=0.1)])
    # Two people 0.4 apart (variance 0.04 about their mean, 0.08 unbiased) say less about their role.
    assert apart.position == pytest.approx(0.3)
    assert apart.se == pytest.approx(math.sqrt((0.1**2 + (ROLE_SPREAD_PRIOR**2 + 0.08) / 2) / 2))
    assert apart.se > two.se


# --- the divergence's lower bound ---------------------------------------------------------------


def role(name: str, position: float, se: float) -> RolePosition:
    """A confident client role measured with standard error ``se``."""
    return RolePosition(name, "client", position, 0.9, 1, se)


def test_the_lower_bound_is_the_gap_less_z_standard_errors() -> None:
    roles = [role("procurement", 0.8, 0.1), role("it", 0.1, 0.2)]
    se = math.hypot(0.1, 0.2)
    split = divergence(roles, min_confidence=0.25, z=1.0)
    assert split is not None
    assert (split.gap, split.se, split.lower) == pytest.approx((0.7, se, 0.7 - se))
    wider = divergence(roles, min_confidence=0.25, z=2.0)
    assert wider is not None
    assert wider.lower == pytest.approx(0.7 - 2 * se)


def test_an_unmeasured_gap_has_no_lower_bound_unless_taken_as_exact() -> None:
    roles = [role("procurement", 0.8, math.inf), role("it", 0.1, 0.2)]
    exact = divergence(roles, min_confidence=0.25, z=0.0)
    noisy = divergence(roles, min_confidence=0.25, z=1.0)
    assert exact is not None
    assert noisy is not None
    assert exact.lower == pytest.approx(0.7)
    assert noisy.lower == -math.inf


def test_a_noisy_wide_pair_loses_to_a_well_measured_slightly_narrower_one() -> None:
    roles = [role("procurement", 0.9, 0.3), role("end_user", 0.8, 0.05), role("it", 0.0, 0.05)]
    split = divergence(roles, min_confidence=0.25, z=1.0)
    assert split is not None
    # Procurement-IT: 0.9 - 0.30 = 0.60; end users-IT: 0.8 - 0.07 = 0.73.
    assert (split.high.role, split.low.role) == ("end_user", "it")
    assert split.lower == pytest.approx(0.8 - math.hypot(0.05, 0.05))
    assert split.roles_counted == 3
    widest = divergence(roles, min_confidence=0.25, z=0.0)
    assert widest is not None
    assert (widest.high.role, widest.low.role) == ("procurement", "it")


# --- one noisy answer does not make a split -----------------------------------------------------


def person(
    stakeholder_id: str, role: str, *answers: tuple[float, float], decision_maker: bool | None = None
) -> StakeholderRecord:
    """A client person holding answers given as (value, day)."""
    return StakeholderRecord(stakeholder_id, role, "client", 1.0, create_state(*answers), decision_maker=decision_maker)


def consistent(role: str, value: float, people: int = 4) -> list[StakeholderRecord]:
    """``people`` people of ``role`` who each answered ``value`` on days 0 to 3."""
    return [person(f"{role}-{i}", role, *[(value, day) for day in range(4)]) for i in range(people)]


def snapshot_of(people: Sequence[StakeholderRecord], day: float = 3.0) -> AccountSnapshot:
    """What ``build_snapshot`` makes of these people on ``day``."""
    return build_snapshot(account_id="acme", as_of=at(day), stakeholders=people)


def test_one_noisy_answer_does_not_open_a_divergence() -> None:
    snapshot = snapshot_of([*consistent("procurement", 0.8), person("ivan", "it", (0.3, 3))])
    split = snapshot.divergence
    assert split is not None
    assert split.gap == pytest.approx(0.5)
    assert split.lower < TH.divergence_warning
    assert evaluate(snapshot, types={"stakeholder_divergence"}) == []


def test_the_same_gap_measured_by_consistent_answers_opens_it() -> None:
    snapshot = snapshot_of([*consistent("procurement", 0.8), *consistent("it", 0.3)])
    split = snapshot.divergence
    assert split is not None
    assert split.gap == pytest.approx(0.5)
    assert split.lower >= TH.divergence_warning
    (condition,) = evaluate(snapshot, types={"stakeholder_divergence"})
    assert condition.severity == "warning"
    assert condition.metrics["divergence_lower"] == pytest.approx(split.lower, abs=1e-4)


# --- who decides the renewal --------------------------------------------------------------------


def test_a_persons_own_flag_overrides_their_roles_default() -> None:
    snapshot = snapshot_of(
        [
            person("paula", "procurement", (0.8, 0)),
            person("ivan", "it", (0.5, 0), decision_maker=True),
            person("frank", "finance", (0.6, 0), decision_maker=False),
            person("uma", "end_user", (0.7, 0)),
            person("new", "unassigned", (0.7, 0), decision_maker=True),
            StakeholderRecord("sam", "executive_sponsor", "supplier", 1.0, create_state((0.9, 0))),
        ]
    )
    deciding = {p.stakeholder_id for p in snapshot.stakeholders if p.decision_maker}
    assert deciding == {"paula", "ivan"}
    assert snapshot.decision_makers == 2
    assert [r.role for r in snapshot.decision_roles] == ["it", "procurement"]
    assert snapshot.unheard_decision_makers == ()


def test_decision_makers_without_recent_answers_are_unheard() -> None:
    snapshot = snapshot_of(
        [
            person("paula", "procurement", (0.8, 200)),
            person("frank", "finance"),  # never answered
            person("eve", "executive_sponsor", (0.9, 0)),  # 200 days ago: confidence 0.14
        ],
        day=200,
    )
    assert [p.stakeholder_id for p in snapshot.unheard_decision_makers] == ["frank", "eve"]
    assert snapshot.decision_makers == 3
    assert snapshot.risk is not None
    assert value(snapshot.risk, "unheard_decision_makers") == pytest.approx(2 / 3)


def value(risk: Risk, name: str) -> float:
    """The value of one factor of a risk."""
    return next(f.value for f in risk.factors if f.name == name)


def contribution(risk: Risk, name: str) -> float:
    """The contribution of one factor of a risk, in log-odds."""
    return next(f.contribution for f in risk.factors if f.name == name)


def three_answers(
    stakeholder_id: str, role: str, answer: float, *, decision_maker: bool | None = None
) -> StakeholderRecord:
    """A person who gave the same answer on days 0, 30 and 60."""
    return person(stakeholder_id, role, (answer, 0), (answer, 30), (answer, 60), decision_maker=decision_maker)


def test_an_account_whose_decision_makers_are_low_is_at_higher_risk() -> None:
    it = three_answers("ivan", "it", 0.6)
    low = snapshot_of([three_answers("paula", "procurement", -0.6), three_answers("frank", "finance", -0.6), it], 60)
    high = snapshot_of([three_answers("paula", "procurement", 0.8), three_answers("frank", "finance", 0.8), it], 60)
    assert low.risk is not None
    assert high.risk is not None
    assert low.risk.probability > high.risk.probability
    assert low.risk.probability >= TH.risk_critical
    assert high.risk.probability < TH.risk_clear
    assert low.risk == assess_risk(low, TH, DEFAULT_RISK_MODEL)


def test_an_unhappy_role_that_does_not_decide_leaves_the_default_risk_alone() -> None:
    deciders = [three_answers("paula", "procurement", 0.8), three_answers("frank", "finance", 0.8)]
    calm = snapshot_of([*deciders, three_answers("ivan", "it", 0.6)], 60)
    sour = snapshot_of([*deciders, three_answers("ivan", "it", -0.6)], 60)
    deciding = snapshot_of([*deciders, three_answers("ivan", "it", -0.6, decision_maker=True)], 60)
    assert calm.risk is not None
    assert sour.risk is not None
    assert deciding.risk is not None
    assert sour.risk.probability == pytest.approx(calm.risk.probability)
    assert deciding.risk.probability > sour.risk.probability
    assert deciding.risk.lowest_role == "it"


def test_an_unheard_decision_maker_reads_as_the_prior_not_as_a_blank() -> None:
    paula = three_answers("paula", "procurement", 0.8)
    heard = snapshot_of([paula, three_answers("frank", "finance", 0.8)], 60)
    silent = snapshot_of([paula, person("frank", "finance")], 60)
    assert heard.risk is not None
    assert silent.risk is not None
    prior = DEFAULT_RISK_MODEL.prior_position
    assert value(heard.risk, "decision_makers_mean") > REFERENCE["decision_makers_mean"]
    # Paula heard (shrunk a little toward the prior), Frank not: he counts at the prior itself.
    assert value(silent.risk, "decision_makers_mean") == pytest.approx(
        (value(silent.risk, "lowest_decision_maker") + prior) / 2
    )
    assert contribution(silent.risk, "decision_makers_mean") > contribution(heard.risk, "decision_makers_mean")
    assert contribution(silent.risk, "decision_makers_mean") > 0
    assert silent.risk.probability > heard.risk.probability
    nobody = snapshot_of([person("frank", "finance")], 60)
    assert nobody.risk is not None
    assert value(nobody.risk, "decision_makers_mean") == prior
    assert value(nobody.risk, "lowest_decision_maker") == prior
    assert nobody.risk.lowest_role is None


def test_one_noisy_low_answer_moves_the_risk_less_than_a_run_of_them() -> None:
    others = [three_answers("frank", "finance", 0.8), three_answers("ivan", "it", 0.6)]
    once = snapshot_of([person("paula", "procurement", (-0.6, 60)), *others], 60)
    thrice = snapshot_of([three_answers("paula", "procurement", -0.6), *others], 60)
    assert once.risk is not None
    assert thrice.risk is not None
    assert -0.6 < value(once.risk, "lowest_decision_maker") < value(once.risk, "decision_makers_mean")
    assert value(thrice.risk, "lowest_decision_maker") < value(once.risk, "lowest_decision_maker")
    assert thrice.risk.probability > once.risk.probability


# --- the risk model's arithmetic ----------------------------------------------------------------


def test_reasons_are_the_raising_factors_largest_first() -> None:
    risk = Risk(
        0.5,
        "m",
        (
            Factor("nps", 0.1, 0.19),
            Factor("decision_makers_mean", 0.8, -0.35),
            Factor("widening", 0.3, 0.16),
            Factor("divergence", 0.5, 0.0),
            Factor("lowest_decision_maker", -0.4, 1.19),
            Factor("blind_spot", 0.2, 0.16),
        ),
    )
    assert [f.name for f in risk.reasons()] == ["lowest_decision_maker", "nps", "blind_spot"]
    assert [f.name for f in risk.reasons(limit=10)] == ["lowest_decision_maker", "nps", "blind_spot", "widening"]
    assert Risk(0.1, "m", (Factor("nps", 0.6, -0.1),)).reasons() == ()


@pytest.mark.parametrize("x", [0.0, 0.5, 3.0, 40.0, 1000.0])
def test_sigmoid_is_symmetric(x: float) -> None:
    assert sigmoid(x) + sigmoid(-x) == pytest.approx(1.0)
    assert sigmoid(x) >= 0.5


def test_sigmoid_does_not_overflow() -> None:
    assert sigmoid(0.0) == 0.5
    assert sigmoid(1000.0) == 1.0
    assert sigmoid(-1000.0) == 0.0
    assert sigmoid(-1e308) == 0.0


def test_shrink_pulls_a_noisy_position_toward_the_prior() -> None:
    assert shrink(-0.5, math.inf, prior=0.4, prior_sd=0.35) == 0.4
    assert shrink(-0.5, 0.0, prior=0.4, prior_sd=0.35) == -0.5
    # As noisy as the prior is wide: halfway.
    assert shrink(-0.5, 0.35, prior=0.4, prior_sd=0.35) == pytest.approx(-0.05)
    path = [shrink(-0.5, se, prior=0.4, prior_sd=0.35) for se in (0.01, 0.05, 0.1, 0.2, 0.4, 1.0, 10.0)]
    assert path == sorted(path)
    assert all(-0.5 < p < 0.4 for p in path)


def test_a_healthy_reference_account_has_no_reasons() -> None:
    risk = score(REFERENCE, DEFAULT_RISK_MODEL)
    assert all(f.contribution == 0.0 for f in risk.factors)
    assert risk.reasons() == ()
    expected = DEFAULT_RISK_MODEL.intercept + math.fsum(
        DEFAULT_RISK_MODEL.coefficient(f) * REFERENCE[f] for f in FACTORS
    )
    assert risk.probability == pytest.approx(sigmoid(expected))
    assert score({}, DEFAULT_RISK_MODEL) == risk


def test_the_default_coefficients_agree_with_each_factors_meaning() -> None:
    for name in FACTORS:
        assert DEFAULT_RISK_MODEL.coefficient(name) * DIRECTION[name] >= 0, name


def test_a_risk_model_refuses_unknown_factors_and_a_flat_prior() -> None:
    with pytest.raises(ValueError, match="unknown"):
        RiskModel(version="v", intercept=0.0, coefficients={"mood": 1.0})
    with pytest.raises(ValueError, match="prior_sd"):
        RiskModel(version="v", intercept=0.0, coefficients={}, prior_sd=0.0)


# --- fitting the model on a portfolio's renewals ------------------------------------------------

T0 = at(0)


def synthetic(
    n: int, *, intercept: float, coefficients: dict[str, float], seed: int = 17, bad_first: bool = False
) -> list[Example]:
    """``n`` renewals whose outcomes a logistic model of two factors draws, one a day."""
    rng = random.Random(seed)
    found = []
    for i in range(n):
        factors = {"decision_makers_mean": rng.uniform(-1, 1), "widening": rng.uniform(0, 1)}
        logit = intercept + math.fsum(coefficients[name] * factors[name] for name in coefficients)
        found.append(Example(factors, rng.random() < sigmoid(logit), T0 + timedelta(days=i)))
    return found


TRUE = {"decision_makers_mean": -2.0, "widening": 1.5}


def test_a_fit_recovers_the_coefficients_that_drew_the_outcomes() -> None:
    model = fit(synthetic(3000, intercept=-0.5, coefficients=TRUE), version="v1", source="test")
    assert model.coefficient("decision_makers_mean") == pytest.approx(-2.0, abs=0.25)
    assert model.coefficient("widening") == pytest.approx(1.5, abs=0.25)
    assert model.intercept == pytest.approx(-0.5, abs=0.25)
    assert all(model.coefficient(f) == 0.0 for f in FACTORS if f not in TRUE)
    assert (model.version, model.source) == ("v1", "test")
    assert (model.prior_position, model.prior_sd) == (0.4, 0.35)


def test_a_factor_fitted_against_its_meaning_is_left_out() -> None:
    # Here a wider split goes with safer renewals: a chance pattern the model must not teach.
    contrary = {"decision_makers_mean": -2.0, "widening": -1.5}
    model = fit(synthetic(3000, intercept=-0.5, coefficients=contrary), version="v", source="test")
    assert model.coefficient("widening") == 0.0
    assert model.coefficient("decision_makers_mean") == pytest.approx(-2.0, abs=0.3)


def test_a_fit_lends_the_priors_shrinkage_settings() -> None:
    prior = replace(DEFAULT_RISK_MODEL, prior_position=0.3, prior_sd=0.5)
    model = fit(synthetic(300, intercept=-0.5, coefficients=TRUE), version="v", source="s", prior=prior)
    assert (model.prior_position, model.prior_sd) == (0.3, 0.5)


def balanced(n: int, bad: int) -> list[Example]:
    """``n`` renewals, ``bad`` of them bad, the bad ones reading lower decision makers."""
    return [
        Example({"decision_makers_mean": -0.2 if i < bad else 0.7}, i < bad, T0 + timedelta(days=i)) for i in range(n)
    ]


def test_too_few_renewals_say_nothing() -> None:
    with pytest.raises(NotEnoughRenewals, match="29 renewals"):
        fit(balanced(MIN_RENEWALS - 1, 14), version="v", source="s")
    with pytest.raises(NotEnoughRenewals):
        fit(balanced(60, MIN_PER_OUTCOME - 1), version="v", source="s")
    with pytest.raises(NotEnoughRenewals):
        fit(balanced(60, 60 - MIN_PER_OUTCOME + 1), version="v", source="s")
    model = fit(balanced(MIN_RENEWALS, MIN_PER_OUTCOME), version="v", source="s")
    assert model.coefficient("decision_makers_mean") < 0


def test_validation_fits_on_the_earlier_renewals_and_scores_the_later_ones() -> None:
    examples = synthetic(1000, intercept=-0.5, coefficients=TRUE)
    checked = validate(examples, current=DEFAULT_RISK_MODEL)
    assert (checked.trained_on, checked.tested_on) == (700, 300)
    assert checked.brier < checked.brier_base_rate
    assert 0.0 < checked.brier < 0.25
    assert 0.0 < checked.brier_current < 1.0
    shuffled = examples[:]
    random.Random(3).shuffle(shuffled)
    assert validate(shuffled, current=DEFAULT_RISK_MODEL) == checked
    with pytest.raises(NotEnoughRenewals):
        validate(examples, current=DEFAULT_RISK_MODEL, holdout=0.0)


def test_a_fitted_model_predicts_what_its_risk_would_say() -> None:
    model = fit(synthetic(500, intercept=-0.5, coefficients=TRUE), version="v", source="s")
    factors = {"decision_makers_mean": -0.3, "widening": 0.4}
    assert predict(model, factors) == pytest.approx(score(factors, model).probability)


# --- replaying an account's history -------------------------------------------------------------

PEOPLE = {
    "paula": PersonFacts("procurement"),
    "frank": PersonFacts("finance"),
    "ivan": PersonFacts("it"),
    "iris": PersonFacts("it"),
}


def nps(stakeholder_id: str, day: float, score: int, *, key: str | None = None, event: str | None = None) -> Fact:
    """An NPS answer as stored (``key``: the answer it is a version of)."""
    event_id = event or f"nps-{stakeholder_id}-{day:g}"
    answer = Answer(normalise_answer("nps", score), at(day), event_id)
    held = HeldAnswer.of(answer, stakeholder_id=stakeholder_id, dimension=None)
    return AnswerVersion(key or event_id, held, "nps", score)


def history() -> list[Fact]:
    """Half a year of an account whose IT sours while procurement and finance stay content."""
    facts: list[Fact] = []
    for n in range(7):
        day = 28.0 * n
        facts += [nps("paula", day, 9), nps("frank", day + 1, 8), nps("ivan", day + 2, 3), nps("iris", day + 2, 2)]
    # Ivan corrects his last answer two days later: a second version of the same answer.
    facts.append(nps("ivan", 172, 1, key="nps-ivan-170", event="nps-ivan-170-v2"))
    facts.append(Moment(at(150), "moment-approach", "renewal_approach"))
    return facts


def replayed(facts: Sequence[Fact]) -> tuple[AccountState, AccountSnapshot | None]:
    """The account's state and last snapshot."""
    return replay("acme", facts, PEOPLE, thresholds=TH, half_life=DEFAULT_HALF_LIFE, renewal_date=None)


def test_shuffled_facts_replay_to_the_same_state_and_timeline() -> None:
    facts = history()
    state, snapshot = replayed(facts)
    shuffled = facts[:]
    random.Random(11).shuffle(shuffled)
    assert shuffled != facts
    assert replayed(shuffled) == (state, snapshot)
    assert replayed(list(reversed(facts))) == (state, snapshot)
    # The timeline is not empty: the split between procurement and IT opened an alert.
    assert snapshot is not None
    assert "stakeholder_divergence" in {e.type for e in state.timeline.episodes}


def risk_as_of(facts: Sequence[Fact], day: float) -> AccountSnapshot | None:
    """The account as it read on ``day``."""
    return risk_at("acme", facts, PEOPLE, at(day), thresholds=TH, half_life=DEFAULT_HALF_LIFE, renewal_date=None)


def test_risk_at_a_time_sees_only_the_facts_up_to_then() -> None:
    facts = history()
    before = risk_as_of(facts, 100)
    assert before is not None
    assert before.as_of == at(100)
    assert before.risk is not None
    # Finance turns detractor after day 100: the risk on day 100 does not know, a later one does.
    later = [*facts, nps("frank", 101, 0), nps("frank", 120, 0), nps("paula", 121, 2)]
    assert risk_as_of(later, 100) == before
    after = risk_as_of(later, 130)
    assert after is not None
    assert after.risk is not None
    assert after.risk.probability > before.risk.probability
    # Nothing known yet.
    assert risk_as_of(facts, -1) is None


def test_risk_at_reads_the_prefix_as_of_the_given_time() -> None:
    facts = history()
    known = [f for f in facts if f.at <= at(100)]
    state, _ = replayed(known)
    expected = state.snapshot("acme", at(100), PEOPLE, thresholds=TH, half_life=DEFAULT_HALF_LIFE, renewal_date=None)
    assert risk_as_of(facts, 100) == expected


def test_the_prediction_is_what_the_risk_said_a_horizon_before_the_renewal() -> None:
    facts = history()
    outcome_day = 180.0
    with_outcome = [*facts, Moment(at(outcome_day), "moment-outcome", "renewal_outcome")]
    state, _ = replayed(with_outcome)
    (renewal, predicted) = next(iter(state.predictions.items()))
    assert renewal == at(outcome_day)
    # The risk in force then: the last evaluation point at or before the renewal minus the horizon.
    horizon = at(outcome_day) - TH.risk_horizon
    before, _ = replayed([f for f in with_outcome if f.at <= horizon])
    assert predicted == before.risk_series[-1][1]
    # Evaluation points between that instant and the outcome's day do not shift it (pruned after reading).
    assert before.risk_series[-1][0] <= horizon


def test_an_account_without_nps_answers_reads_the_classic_score_as_silent() -> None:
    people = consistent("procurement", 0.6) + consistent("finance", 0.6)
    risk = snapshot_of(people).risk
    assert risk is not None
    assert value(risk, "nps") == REFERENCE["nps"]
    assert contribution(risk, "nps") == 0.0
