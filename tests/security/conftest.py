"""The world the route walk runs in: two clinics, each patient with every kind of record.

Clinic A ("own") has a clinician, a clinic administrator, an API key and patients P1 (the patient
caller), P2 (another patient of the same clinic) and P3 (invited, not yet signed up). Clinic B
("other") has a clinician, an API key, its own copy of a protocol and patient PB. P1, P2 and PB
each have a screening, a plan, sessions, a decision awaiting approval, an outcome score, a
reminder, a ready report with its file, a portal account made from an invitation, a calendar
link (and an older one it replaced) and a personal API token.

It is built once per module (per xdist worker) inside a transaction that is rolled back at the
end; each test runs in a savepoint of it, so a test that changes something leaves no trace.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import connection, models, transaction
from django.db.models import Q
from django.test import Client, TestCase, override_settings
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from rehab import services, two_step
from rehab.models import AuditEvent, Clinic, Patient, Reminder, SessionLog, User, WebhookDelivery
from tests.factories import (
    ClinicFactory,
    ClinicianFactory,
    builtin_protocol,
    clean_answers,
    current_code,
    good_session,
)

PASSWORD = "walk backwards slowly"


@dataclass
class Records:
    """One patient and one row of every kind that patient has."""

    patient: Patient
    objects: dict = field(default_factory=dict)
    # What would show this patient's data on a page: names, record number, contact details.
    identifying: tuple[str, ...] = ()


def _invite_token() -> str:
    link = re.search(r"/invite/([\w-]+)/", mail.outbox[-1].body)
    assert link, "the invitation e-mail carries no link"
    return link.group(1)


def _invite(patient: Patient, actor) -> str:
    """Invite the way the dashboard does; the token exists only in the e-mail."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.patient_invite(patient=patient, actor=actor)
    return _invite_token()


def _patient_with_history(
    clinic: Clinic, clinician, *, first: str, last: str, record: str, phone: str, today: dt.date
) -> Records:
    actor = clinician.user
    email = f"{first}.{last}@example.org".lower()
    patient = services.patient_create(
        clinic=clinic,
        actor=actor,
        first_name=first,
        last_name=last,
        condition="knee_oa",
        email=email,
        phone=phone,
        external_id=record,
        timezone_name="Europe/London",
    )
    start = today - dt.timedelta(days=10)
    screening = services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=actor, today=start
    )
    plan = services.plan_assign(
        patient=patient, protocol=builtin_protocol(), actor=actor, start_date=start, today=start
    )
    session = None
    for offset in (0, 2):
        day = start + dt.timedelta(days=offset)
        session = services.session_log(
            plan=plan, actor=actor, date=day, today=day, **good_session(minutes_done=10)
        )
    # Chest pain during the last session (written as the row, not through the service, which
    # would pause the plan): the FHIR door's AdverseEvent has a record to reach.
    SessionLog.objects.filter(pk=session.pk).update(chest_pain=True)
    # An advance suggestion awaiting approval, so approve and reject have something to act on.
    decision = plan.decisions.create(
        evaluated_on=today,
        trigger="manual",
        outcome="advance",
        from_level=0,
        to_level=1,
        reasons=[{"code": "criteria_met", "text": "Ready", "outcome": "advance"}],
        status="pending",
    )
    outcome = services.outcome_record(
        patient=patient, measure="nprs", answers={"score": 5}, actor=actor
    )
    note = services.clinical_note_add(
        patient=patient, actor=actor, noted_on=today, text=f"Reviewed {first} in clinic."
    )
    reminder = Reminder.objects.create(
        patient=patient,
        plan=plan,
        due_date=today,
        channel="email",
        scheduled_for=dt.datetime.now(dt.UTC),
        status="sent",
    )
    report = services.report_request(patient=patient, audience="patient", actor=actor)
    services.report_render(report_id=report.pk)
    used_invite = _invite(patient, actor)
    user = services.invite_accept(token=used_invite, password=PASSWORD, username=last.lower())
    replaced_calendar = services.calendar_feed_create(patient=patient, actor=user)
    calendar = services.calendar_feed_create(patient=patient, actor=user)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    objects = {
        "patient": patient,
        "screening": screening,
        "plan": plan,
        "session": session,
        "decision": decision,
        "outcome": outcome,
        "note": note,
        "reminder": reminder,
        "report": report,
        "audit_event": AuditEvent.objects.filter(patient=patient).order_by("pk").first(),
        "user": user,
        "api_token": response.json()["token"],
        # A link's token is its own credential: the other patient's links the caller might
        # hold are the spent and replaced ones; the patient's own are the working ones.
        "spent_invite_token": used_invite,
        "replaced_calendar_token": replaced_calendar,
        "calendar_token": calendar,
    }
    identifying = (f"{first} {last}", last, record, email, phone)
    return Records(patient, objects, identifying)


@dataclass
class World:
    clinic_a: Clinic
    clinic_b: Clinic
    clinician: object  # clinic A, not an administrator
    clinic_admin: object  # clinic A
    api_key: str  # clinic A's key, raw
    p1: Records
    p2: Records
    pb: Records
    own: dict  # what an id names for the callers' own side (clinic A, patient P1)
    other_clinic: dict  # clinic B's rows, for staff callers
    other_patient: dict  # P2's rows (and clinic B's shared ones), for patient callers
    other_clinic_strings: tuple[str, ...]
    other_patient_strings: tuple[str, ...]
    media_root: object
    sessions: dict = field(default_factory=dict)  # caller -> a signed-in session's key


def _webhook_rows(clinic: Clinic, patient: Patient) -> dict:
    """A clinic's webhook endpoint and one failed delivery of it (written as the row, so nothing
    is posted anywhere), so its routes have a record on each side; a retry can act on it."""
    endpoint, _ = services.webhook_endpoint_create(
        clinic=clinic, actor=None, url="https://hooks.example.org/in", events=["patient.updated"]
    )
    now = dt.datetime.now(dt.UTC)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="patient.updated",
        message_id=f"msg_security_{clinic.pk}",
        payload={"type": "patient.updated", "data": {"patient_id": patient.pk}},
        status="failed",
        attempts=1,
        created_at=now,
        retry_until=now,
    )
    return {"webhook_endpoint": endpoint, "webhook_delivery": delivery}


def reset_uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def reset_token(user: User) -> str:
    return default_token_generator.make_token(user)


def _build(media_root) -> World:
    today = dt.datetime.now(dt.UTC).date()
    clinic_a = ClinicFactory(name="Riverbank Physiotherapy", slug="riverbank")
    clinic_b = ClinicFactory(name="Northgate Sports Clinic", slug="northgate")
    clinician = ClinicianFactory(
        clinic=clinic_a, user__first_name="Priya", user__last_name="Sandford"
    )
    clinic_admin = ClinicianFactory(
        clinic=clinic_a,
        is_clinic_admin=True,
        user__first_name="Rhiannon",
        user__last_name="Ellery",
    )
    clinician_b = ClinicianFactory(
        clinic=clinic_b,
        is_clinic_admin=True,
        user__first_name="Fenella",
        user__last_name="Wardlow-Birch",
    )
    builtin = builtin_protocol()
    copy_a = services.protocol_copy(
        protocol=builtin, clinic=clinic_a, actor=clinic_admin.user, name="Riverbank knee ladder"
    )
    copy_b = services.protocol_copy(
        protocol=builtin, clinic=clinic_b, actor=clinician_b.user, name="Northgate knee ladder"
    )
    key_a, raw_a = services.api_key_create(clinic=clinic_a, name="Riverbank EHR", actor=None)
    key_b, _ = services.api_key_create(clinic=clinic_b, name="Northgate EHR sync", actor=None)

    p1 = _patient_with_history(
        clinic_a,
        clinician,
        first="Olwen",
        last="Marchbank",
        record="RB-10042",
        phone="+44 7700 900101",
        today=today,
    )
    p2 = _patient_with_history(
        clinic_a,
        clinician,
        first="Tamsin",
        last="Quillfeather",
        record="RB-20233",
        phone="+44 7700 900202",
        today=today,
    )
    pb = _patient_with_history(
        clinic_b,
        clinician_b,
        first="Ignatius",
        last="Brackenbury",
        record="NG-40417",
        phone="+44 7700 900303",
        today=today,
    )
    # P3 is invited and has not signed up: the one working invitation link of clinic A.
    p3 = services.patient_create(
        clinic=clinic_a,
        actor=clinician.user,
        first_name="Bronwen",
        last_name="Tallis",
        condition="knee_oa",
        email="bronwen.tallis@example.org",
    )
    p3_invite = _invite(p3, clinician.user)

    # Clinic B's clinician has an authenticator and recovery codes: rows of the other side for
    # the admin's pages of them.
    device = two_step.two_step_enrol_start(user=clinician_b.user)
    two_step.two_step_enrol_confirm(
        user=clinician_b.user, code=current_code(device), actor=clinician_b.user
    )

    clinic_rows = {
        "a": {
            "protocol": copy_a,
            "clinician": clinician,
            "api_key": key_a,
            **_webhook_rows(clinic_a, p1.patient),
        },
        "b": {
            "protocol": copy_b,
            "clinician": clinician_b,
            "api_key": key_b,
            **_webhook_rows(clinic_b, pb.patient),
        },
    }
    own = {
        **p1.objects,
        **clinic_rows["a"],
        "invite_token": p3_invite,
        "audit_event": AuditEvent.objects.filter(clinic=clinic_a).order_by("pk").first(),
    }

    def other(records: Records) -> dict:
        return {
            **records.objects,
            **clinic_rows["b"],
            "invite_token": records.objects["spent_invite_token"],
            "calendar_token": records.objects["replaced_calendar_token"],
        }

    other_clinic = {
        **other(pb),
        "audit_event": AuditEvent.objects.filter(clinic=clinic_b).order_by("pk").first(),
    }
    clinic_b_strings = (
        clinic_b.name,
        "Wardlow-Birch",
        copy_b.name,
        key_b.name,
        *pb.identifying,
    )
    # Signed in once: the walk's clients carry these cookies (a sign-in per request would cost
    # more than the request itself).
    sessions = {}
    for caller, user in (
        ("clinician", clinician.user),
        ("clinic_admin", clinic_admin.user),
        ("patient", p1.objects["user"]),
    ):
        client = Client()
        client.force_login(user)
        sessions[caller] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return World(
        sessions=sessions,
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        clinician=clinician,
        clinic_admin=clinic_admin,
        api_key=raw_a,
        p1=p1,
        p2=p2,
        pb=pb,
        own=own,
        other_clinic=other_clinic,
        other_patient=other(p2),
        other_clinic_strings=clinic_b_strings,
        other_patient_strings=(*p2.identifying, *clinic_b_strings),
        media_root=media_root,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media_root = tmp_path_factory.mktemp("media")
    fast = override_settings(
        MEDIA_ROOT=media_root, PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), fast:
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build(media_root)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# --- Snapshots of the other side's rows ---------------------------------------------------------


def _links(model) -> list[models.Field]:
    return [
        f
        for f in model._meta.concrete_fields
        if f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model is not model
    ]


class Scope:
    """Every table's rows that belong to one side: the seed rows, then, model after model, every
    row with a foreign key to a row found so far: a clinic's patients, their plans, the plans'
    sessions, and so on, for every model installed, including ones added after this was
    written. The queries are subqueries evaluated at each snapshot, so a row created later (a
    session logged on the other side's plan) is found as well."""

    def __init__(self, seeds: dict) -> None:
        self.seeds = seeds
        scoped = set(seeds)
        remaining = [m for m in apps.get_models() if not m._meta.proxy and m not in seeds]
        grew = True
        while grew:
            grew = False
            for model in list(remaining):
                if any(f.related_model in scoped for f in _links(model)):
                    scoped.add(model)
                    remaining.remove(model)
                    grew = True
        # Each model after the ones it points to, so a row is found through any of its keys.
        self.order: list = []
        rest = sorted(scoped, key=lambda m: m._meta.label)
        while rest:
            ready = [
                m
                for m in rest
                if all(
                    f.related_model in self.order or f.related_model not in scoped
                    for f in _links(m)
                )
            ] or rest[:1]  # a cycle: break it anywhere
            self.order += ready
            rest = [m for m in rest if m not in ready]

        # Each model's rows as one query of nested subqueries, compiled once: a snapshot is then
        # a few plain SELECTs, and rows created later are found as they are.
        built: dict = {}
        for model in self.order:
            parts = [Q(pk__in=seeds[model].values("pk"))] if model in seeds else []
            for f in _links(model):
                if f.related_model in built:
                    parts.append(Q(**{f"{f.attname}__in": built[f.related_model].values("pk")}))
            if not parts:
                continue  # only reachable through a cycle broken above: none here
            condition = parts[0]
            for part in parts[1:]:
                condition |= part
            built[model] = model._default_manager.filter(condition)
        self.queries = []
        for model, queryset in built.items():
            names = [f.attname for f in model._meta.concrete_fields]
            sql, params = queryset.order_by().values_list(*names).query.sql_with_params()
            self.queries.append((model._meta.label, sql, params))

    def snapshot(self) -> dict[str, dict]:
        """model label -> {pk: the row's values}."""
        rows = {}
        with connection.cursor() as cursor:
            for label, sql, params in self.queries:
                cursor.execute(sql, params)
                rows[label] = {row[0]: row for row in cursor.fetchall()}
        return rows


def snapshot_difference(before: dict, after: dict) -> list[str]:
    changes = []
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, {}), after.get(label, {})
        for pk in sorted(set(old) | set(new), key=str):
            if pk not in new:
                changes.append(f"{label} #{pk} deleted")
            elif pk not in old:
                changes.append(f"{label} #{pk} created")
            elif old[pk] != new[pk]:
                changes.append(f"{label} #{pk} changed")
    return changes
