"""The clinician's flows: managing a plan, and what its pages cost in queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from rehab import services
from rehab.models import AuditEvent, ProgressionDecision, Screening
from tests.factories import builtin_protocol, good_session
from tests.web.clinicians.flows.conftest import assign, html_of, screen, value_attr

pytestmark = pytest.mark.django_db


# --- Managing a plan --------------------------------------------------------------------------


@pytest.fixture
def plan(patient):
    screen(patient)
    return assign(patient)


def act(dashboard, plan, action, **fields):
    data = {"action": action, **{f"{action}-{name}": value for name, value in fields.items()}}
    return dashboard.post(reverse("clinicians:plan_manage", args=[plan.pk]), data)


def test_plan_page_shows_levels_with_the_current_one_marked(dashboard, plan):
    response = dashboard.get(reverse("clinicians:plan_manage", args=[plan.pk]))
    html = html_of(response)
    assert response.status_code == 200
    assert html.count('aria-current="step"') == 1
    current = re.search(
        r'<tr class="current" aria-current="step">\s*<th scope="row"[^>]*>(\d+)', html
    )
    assert current.group(1) == "1"
    assert "current level" in html
    assert reverse("clinicians:patient", args=[plan.patient.pk]) in html
    assert AuditEvent.objects.filter(action="plan.read", patient=plan.patient).count() == 1


def test_pause_with_a_reason(dashboard, plan):
    response = act(dashboard, plan, "pause", reason="Away on holiday")
    assert response.status_code == 302
    assert response.url == reverse("clinicians:plan_manage", args=[plan.pk])
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == ("paused", "Away on holiday")
    page = html_of(dashboard.get(response.url))
    assert "The plan is paused." in page
    assert "Paused: Away on holiday" in page
    assert 'value="resume"' in page
    assert 'value="pause"' not in page


def test_resume_a_paused_plan(dashboard, plan):
    services.plan_pause(plan=plan, actor=None, reason="Holiday")
    response = act(dashboard, plan, "resume", reason="Back home")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "active"


def test_the_resume_form_lists_every_safety_signal_since_the_pause(dashboard, plan):
    """A fall paused the plan; while it was paused the patient told of 9/10 pain the morning
    after. Resuming reviews both, so the page that resumes shows both."""
    fell = services.session_log(
        plan=plan, actor=None, date=dt.date(2026, 3, 2), **good_session(fall=True)
    )
    services.session_add_next_morning_pain(
        session=fell, pain=9, actor=None, today=dt.date(2026, 3, 3)
    )
    html = html_of(dashboard.get(reverse("clinicians:plan_manage", args=[plan.pk])))
    assert "Paused after a safety event." in html
    assert (
        "<li>A fall was reported on 2 March. The plan is paused until the clinician has "
        "reviewed it.</li>"
    ) in html
    assert (
        "<li>Pain reached 9/10 the morning after the session on 2 March (pause at 8/10 or "
        "more).</li>"
    ) in html
    assert 'value="resume"' in html


def test_resume_without_a_valid_screening_shows_the_services_refusal(dashboard, plan):
    services.plan_pause(plan=plan, actor=None, reason="Fall")
    Screening.objects.update(invalidated_at=timezone.now(), invalidated_reason="Fall")
    response = act(dashboard, plan, "resume", reason="Feeling better")
    html = html_of(response)
    assert response.status_code == 409
    assert "A valid screening" in html
    assert "before a plan can be resumed" in html
    assert value_attr(html, "resume-reason") == "Feeling better"
    plan.refresh_from_db()
    assert plan.status == "paused"


def test_resume_under_an_overridable_block_asks_for_a_reason(dashboard, plan):
    services.plan_pause(plan=plan, actor=None, reason="Fever")
    screen(plan.patient, fever_or_systemic_infection=True)
    url = reverse("clinicians:plan_manage", args=[plan.pk])
    assert 'name="resume-override_reason"' in html_of(dashboard.get(url))

    response = act(dashboard, plan, "resume", reason="", override_reason="")
    assert response.status_code == 409
    assert "A clinician may override this block with a written reason" in html_of(response)
    plan.refresh_from_db()
    assert plan.status == "paused"

    reason = "Fever gone for a week; GP agrees walking can restart."
    assert act(dashboard, plan, "resume", reason="", override_reason=reason).status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.override_reason) == ("active", reason)


def test_set_level_moves_the_plan_and_records_a_decision(dashboard, plan):
    response = act(dashboard, plan, "set_level", level="2", reason="Coping well")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.current_level == 2
    decision = ProgressionDecision.objects.get(plan=plan)
    assert decision.reasons[0]["text"] == "Coping well"
    assert "The plan moved to level 3." in html_of(dashboard.get(response.url))


def test_set_level_without_a_reason_is_refused_with_the_choice_kept(dashboard, plan):
    response = act(dashboard, plan, "set_level", level="3", reason="")
    html = html_of(response)
    assert response.status_code == 400
    assert "Say why the level is changed." in html
    assert re.search(r'<option value="3" selected>', html)
    plan.refresh_from_db()
    assert plan.current_level == 0


def test_set_level_to_the_current_level_shows_the_services_refusal(dashboard, plan):
    response = act(dashboard, plan, "set_level", level="0", reason="No change")
    html = html_of(response)
    assert response.status_code == 400
    assert "The plan is already at this level." in html
    assert value_attr(html, "set_level-reason") == "No change"


def test_complete_a_plan(dashboard, plan):
    response = act(dashboard, plan, "complete", reason="")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "completed"
    page = html_of(dashboard.get(response.url))
    assert "it can no longer be changed" in page


def test_discontinue_needs_a_reason(dashboard, plan):
    response = act(dashboard, plan, "discontinue", reason="  ")
    assert response.status_code == 400
    assert "Say why the plan is discontinued." in html_of(response)
    plan.refresh_from_db()
    assert plan.status == "active"

    response = act(dashboard, plan, "discontinue", reason="Moved away")
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.status, plan.status_reason) == ("discontinued", "Moved away")


def test_auto_apply_is_switched_on_and_off(dashboard, plan):
    assert act(dashboard, plan, "auto_apply", auto_apply="on").status_code == 302
    plan.refresh_from_db()
    assert plan.auto_apply is True
    assert act(dashboard, plan, "auto_apply").status_code == 302
    plan.refresh_from_db()
    assert plan.auto_apply is False


def test_an_action_the_plans_state_does_not_allow_is_refused_on_the_page(dashboard, plan):
    response = act(dashboard, plan, "resume", reason="")
    assert response.status_code == 409
    assert "not paused" in html_of(response)


def test_an_unknown_action_is_not_found(dashboard, plan):
    assert act(dashboard, plan, "delete").status_code == 404


def test_another_clinics_plan_is_not_found(dashboard, stranger):
    screen(stranger)
    theirs = assign(stranger)
    url = reverse("clinicians:plan_manage", args=[theirs.pk])
    assert dashboard.get(url).status_code == 404
    assert act(dashboard, theirs, "pause", reason="x").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "active"


def test_anonymous_visitor_cannot_manage_a_plan(client, plan):
    url = reverse("clinicians:plan_manage", args=[plan.pk])
    response = client.post(url, {"action": "pause"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("clinicians:login"))
    plan.refresh_from_db()
    assert plan.status == "active"


# --- Query counts -----------------------------------------------------------------------------


# Each page costs: session, user, clinician (the principal), its own reads, one audit insert.
# The first request after force_login also re-saves the session, hence the warm-up request.


def test_plan_page_query_count(dashboard, plan, django_assert_num_queries):
    url = reverse("clinicians:plan_manage", args=[plan.pk])
    dashboard.get(url)
    # + the plan with its patient, the current screening
    with django_assert_num_queries(6):
        dashboard.get(url)


def test_assign_page_query_count_does_not_grow_with_the_library(
    dashboard, patient, clinic, django_assert_num_queries
):
    screen(patient)
    builtin_protocol()
    url = reverse("clinicians:plan_assign", args=[patient.pk])
    dashboard.get(url)
    # + patient, current screening, open plan, protocols, their levels (one prefetch)
    with django_assert_num_queries(9):
        dashboard.get(url)
    for n in range(3):
        services.protocol_copy(
            protocol=builtin_protocol(), clinic=clinic, actor=None, name=f"Copy {n}"
        )
    with django_assert_num_queries(9):
        response = dashboard.get(url)
    assert html_of(response).count("your clinic's, version") == 3


def test_screening_form_query_count(dashboard, patient, django_assert_num_queries):
    url = reverse("clinicians:screening_new", args=[patient.pk])
    dashboard.get(url)
    with django_assert_num_queries(5):  # + the patient
        dashboard.get(url)
