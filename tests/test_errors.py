"""rehab.errors' vocabulary: every code a refusal can carry is an ErrorCode with its words."""

import json

import pytest

from rehab.errors import ErrorCode, RehabError
from rehab.models import Plan


def test_every_error_code_has_its_own_words():
    for code in ErrorCode:
        # Without a label Django makes one from the member's name ("Plan Paused").
        assert code.label.strip(), code
        assert code.label != code.name.replace("_", " ").title(), code


def test_the_code_a_client_reads_is_the_string_it_has_always_been():
    error = RehabError(ErrorCode.PLAN_PAUSED, "The plan is paused.", status=409)
    assert json.loads(json.dumps(error.as_dict())) == {
        "code": "plan_paused",
        "message": "The plan is paused.",
        "fields": {},
    }
    assert error.code == "plan_paused"
    assert repr(error) == "RehabError('plan_paused', 'The plan is paused.')"


@pytest.mark.parametrize("status", [Plan.Status.PAUSED, Plan.Status.COMPLETED, "discontinued"])
def test_a_plan_in_the_wrong_state_has_a_code_for_that_state(status):
    # services.plans refuses a transition with the code of the state the plan is in.
    assert ErrorCode(f"plan_{status}").label
