"""rehab.errors' vocabulary: every code a refusal can carry is an ErrorCode with its words."""

import ast
import json
from pathlib import Path

import pytest

from rehab.errors import ErrorCode, RehabError
from rehab.models import Plan

ROOT = Path(__file__).resolve().parent.parent


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


def _raised_codes():
    """(file:line, code expression) of every RehabError the code builds."""
    for package in ("rehab", "clinicians", "patients"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("RehabError"):
                    code = node.args[0] if node.args else None
                    code = next((k.value for k in node.keywords if k.arg == "code"), code)
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", code


def test_every_refusal_names_its_code_from_the_vocabulary():
    found = list(_raised_codes())
    assert len(found) > 40  # the scan sees the raise sites
    loose = [
        (where, ast.unparse(code) if code else None)
        for where, code in found
        if code is None or not ast.unparse(code).startswith("ErrorCode")
    ]
    assert loose == []
