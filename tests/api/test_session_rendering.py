"""The session's rendering written out by hand (for the POST's speed) is exactly what its
declared fields render, so the OpenAPI schema generated from those fields stays true."""

import datetime as dt

import pytest
from rest_framework import serializers

from rehab import services
from rehab.api.serializers import SessionSerializer
from rehab.clinical import levels as L
from tests.factories import active_plan, good_session

pytestmark = pytest.mark.django_db


def by_fields(log) -> dict:
    serializer = SessionSerializer(log)
    return serializers.ModelSerializer.to_representation(serializer, log)


def test_the_written_out_rendering_is_the_fields_rendering():
    plan = active_plan()
    today = plan.patient.local_today()
    plan.start_date = plan.window_start = plan.level_started_on = today - dt.timedelta(days=3)
    plan.save()
    pending = services.session_log(
        plan=plan,
        actor=None,
        date=today - dt.timedelta(days=3),
        today=today,
        notes="Steady <today>",
        **good_session(speed_kmh=None),
    )
    decided = services.session_log(
        plan=plan,
        actor=None,
        date=today - dt.timedelta(days=2),
        today=today,
        pain_next_morning=2,  # decided at once, with its reasons
        **good_session(incline_pct=1.5, setting=L.TREADMILL_BOTH_HANDRAILS),
    )
    services.session_evaluate(session_id=pending.pk)
    for log in (pending, decided):
        log.refresh_from_db()
        assert SessionSerializer(log).data == by_fields(log)
    assert SessionSerializer(decided).data["decision"]["reasons"]
    assert SessionSerializer(pending).data["speed_kmh"] is None
