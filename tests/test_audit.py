"""rehab.audit's vocabulary: every action the code records is an AuditAction with its words."""

import pytest

from rehab.audit import AuditAction, audit_action_words
from rehab.models import Plan, Reminder


def test_every_action_has_its_own_words():
    for action in AuditAction:
        # Without a label Django makes one from the member's name ("Plan Assign").
        assert action.label.strip(), action
        assert action.label != action.name.replace("_", " ").title(), action


@pytest.mark.parametrize(
    "action",
    [
        *(f"plan.{s}" for s in ("paused", "completed", "discontinued")),
        *(f"reminder.{s}" for s in ("sent", "failed", "skipped")),
    ],
)
def test_the_actions_built_from_a_status_are_in_the_vocabulary(action):
    assert AuditAction(action).label
    assert action.split(".")[1] in {*Plan.Status.values, *Reminder.Status.values}


def test_the_stored_value_is_the_string_the_trail_has_always_held():
    assert AuditAction.PLAN_ASSIGN == "plan.assign"
    assert f"{AuditAction.AUDIT_READ}" == "audit.read"


def test_the_trail_says_an_action_in_words_and_an_unknown_one_as_stored():
    assert audit_action_words("plan.assign") == "Assigned a plan"
    assert audit_action_words("something.retired") == "something.retired"
