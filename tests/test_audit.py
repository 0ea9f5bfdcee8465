"""rehab.audit's vocabulary: every action the code records is an AuditAction with its words."""

import ast
from pathlib import Path

import pytest

from rehab.audit import AuditAction, audit_action_words
from rehab.models import Plan, Reminder

ROOT = Path(__file__).resolve().parent.parent
AUDIT_CALLS = {
    "audit_record",
    "audit_reads",
    "audit_reads_by_ref",
    "audit_view_with_trail",
    "audit_trail_read",
    "_audit_read",
}


def _written_actions():
    """(file:line, source) of every action the code passes to an audit call or names as a
    view's read_action."""
    for package in ("rehab", "clinicians", "patients"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                given = []
                if isinstance(node, ast.Call) and ast.unparse(node.func).split(".")[-1] in (
                    AUDIT_CALLS
                ):
                    given = [kw.value for kw in node.keywords if kw.arg in ("action", "reads")]
                    if ast.unparse(node.func).endswith("_audit_read") and len(node.args) > 1:
                        given.append(node.args[1])
                elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "read_action" for t in node.targets
                ):
                    given = [node.value]
                for value in given:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", value


def _enumerated(value) -> bool:
    """AuditAction.X, AuditAction(built), a name passed through, or a choice between them."""
    if isinstance(value, ast.Attribute | ast.Call):
        return ast.unparse(value).startswith(("AuditAction", "self.read_action"))
    if isinstance(value, ast.IfExp):
        return _enumerated(value.body) and _enumerated(value.orelse)
    if isinstance(value, ast.Tuple):
        return all(_enumerated(element) for element in value.elts)
    # A helper's parameter; or a base class's "" for "records no read".
    return isinstance(value, ast.Name) or (isinstance(value, ast.Constant) and value.value == "")


def test_every_action_has_its_own_words():
    for action in AuditAction:
        # Without a label Django makes one from the member's name ("Plan Assign").
        assert action.label.strip(), action
        assert action.label != action.name.replace("_", " ").title(), action


def test_no_audit_call_writes_its_action_as_a_string():
    found = list(_written_actions())
    assert len(found) > 60  # the scan sees the call sites
    assert [(where, ast.unparse(v)) for where, v in found if not _enumerated(v)] == []


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
