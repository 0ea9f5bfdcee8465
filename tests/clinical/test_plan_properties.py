"""Screening, the protocol library and capping together: whatever a screening allows, no level
of any built-in protocol for that condition is prescribed beyond the verdict's constraints."""

from hypothesis import given, settings
from hypothesis import strategies as st

from rehab.clinical import levels as L
from rehab.clinical import protocols, screening
from rehab.clinical.levels import Constraints, cap_level, within

OPTIONAL_FINDINGS = {
    "anticoagulated": st.booleans(),
    "chronic_dizziness": st.booleans(),
    "poor_vision": st.booleans(),
    "peripheral_neuropathy": st.booleans(),
    "osteoporosis": st.booleans(),
    "cognitive_impairment": st.booleans(),
    "beta_blockers": st.booleans(),
    "tug_seconds": st.floats(5, 30),
    "berg_score": st.integers(35, 56),
    "backward_walk_3m_seconds": st.floats(2, 12),
    "resting_bp_systolic": st.integers(100, 200),
    "resting_bp_diastolic": st.integers(60, 120),
}


@st.composite
def screened(draw):
    condition = draw(st.sampled_from(list(L.CONDITIONS)))
    answers = screening.negative_answers(condition)
    answers["falls_past_12_months"] = draw(st.integers(0, 3))
    answers["feels_unsteady"] = draw(st.booleans())
    if condition in L.KNEE_CONDITIONS:
        answers["knee_effusion"] = draw(st.sampled_from(["none", "trace", "1+"]))
    for code, strategy in OPTIONAL_FINDINGS.items():
        if draw(st.booleans()):
            answers[code] = draw(strategy)
    return condition, screening.screen(answers)


@settings(max_examples=300)
@given(screened())
def test_no_level_of_a_plan_exceeds_the_constraints_of_its_screening(case):
    condition, verdict = case
    constraints = Constraints.from_dict(verdict.to_dict()["constraints"])
    assert constraints == verdict.constraints  # what the plan stores is what was judged
    for protocol in protocols.for_condition(condition):
        for level in protocol.levels:
            capped = cap_level(level, constraints)
            assert within(capped.level, constraints)
            if constraints.max_speed_kmh is not None:
                assert capped.level.speed_kmh is not None
                assert capped.level.speed_kmh <= constraints.max_speed_kmh
            if constraints.supervised_only:
                assert capped.level.supervised
            if not capped.is_capped:
                assert capped.level == level  # untouched levels are shown exactly as written
