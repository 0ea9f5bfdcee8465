"""The dashboard's stored need (services.dashboard_refresh): the refresh is one statement for any
number of stale patients, never stores a need computed before a write it missed, and what it
stores is what the flags' rules (selectors.dashboard_needs_live) say of the rows."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import threading
import time

import pytest
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from rehab import selectors, services
from rehab.errors import RehabError
from rehab.models import Patient, Plan, ProgressionDecision, Screening, SessionLog
from rehab.services.dashboard import _refresh_statement as refresh_statement
from tests.factories import (
    TODAY,
    ClinicFactory,
    ClinicianFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)
from tests.stored_need import (
    at_noon,
    days_ago,
    log,
    log_this_week,
    plan_for,
    screened,
)


@pytest.fixture
def frozen():
    # Monday 2 March 2026, noon in London: the clinic's and the patients' day is TODAY.
    with freeze_time(at_noon(TODAY)) as clock:
        yield clock


# --- The refresh ------------------------------------------------------------------------------


def stored_needs(clinic) -> dict[int, int]:
    return dict(Patient.objects.filter(clinic=clinic).values_list("pk", "dashboard_need"))


def live_needs(clinic, today: dt.date) -> dict[int, int]:
    return {pk: need for pk, need, _ in selectors.dashboard_needs_live(clinic=clinic, today=today)}


def refresh_queries(clinic, today: dt.date) -> tuple[int, int]:
    """(queries, patients stored) of one refresh."""
    with CaptureQueriesContext(connection) as ctx:
        stored = services.dashboard_refresh(clinic=clinic, today=today)
    return len(ctx.captured_queries), stored


@pytest.mark.usefixtures("frozen")
def test_the_refresh_is_one_statement_for_one_or_sixty_stale_patients(clinic, stranger):
    for i in range(60):
        if i % 4 == 0:
            log(plan_for(clinic, f"Many{i:02d}", start=days_ago(20)), days_ago(3), fall=i % 8 == 0)
        else:
            screened(clinic, f"Many{i:02d}", on=days_ago(i) if i % 2 else None)
    assert refresh_queries(clinic, TODAY) == (1, 60)
    assert refresh_queries(clinic, TODAY) == (1, 0)  # nothing stale: nothing written
    one = Patient.objects.get(last_name="Many05")
    services.screening_submit(
        patient=one, answers=clean_answers(one.condition), actor=None, today=TODAY
    )
    assert refresh_queries(clinic, TODAY) == (1, 1)
    assert refresh_queries(clinic, TODAY + dt.timedelta(days=1)) == (1, 60)  # a new day
    assert stored_needs(clinic) == live_needs(clinic, TODAY + dt.timedelta(days=1))
    assert len(set(stored_needs(clinic).values())) >= 4  # not all alike
    stranger.refresh_from_db()
    assert stranger.dashboard_day is None  # another clinic's patients are not touched


@pytest.mark.usefixtures("frozen")
def test_the_statement_is_built_once_per_clinic_and_day_and_stays_with_its_clinic(
    clinic, stranger, monkeypatch
):
    refresh_statement.cache_clear()
    built = []
    live = selectors.dashboard_needs_live

    def counted(*, clinic, today, stale_only=False):
        built.append((clinic.pk, today))
        return live(clinic=clinic, today=today, stale_only=stale_only)

    monkeypatch.setattr(selectors, "dashboard_needs_live", counted)
    ours = screened(clinic, "Ours")
    theirs, elsewhere = stranger, stranger.clinic
    assert services.dashboard_refresh(clinic=clinic, today=TODAY) == 1
    services.screening_submit(
        patient=ours, answers=clean_answers(ours.condition), actor=None, today=TODAY
    )
    assert services.dashboard_refresh(clinic=clinic, today=TODAY) == 1
    assert built == [(clinic.pk, TODAY)]  # the second refresh ran the statement built first
    theirs.refresh_from_db()
    assert theirs.dashboard_day is None  # the other clinic's patient is not touched
    assert services.dashboard_refresh(clinic=elsewhere, today=TODAY) == 1
    tomorrow = TODAY + dt.timedelta(days=1)
    assert services.dashboard_refresh(clinic=clinic, today=tomorrow) == 1
    assert built == [(clinic.pk, TODAY), (elsewhere.pk, TODAY), (clinic.pk, tomorrow)]
    assert stored_needs(clinic) == live_needs(clinic, tomorrow)
    assert stored_needs(elsewhere) == live_needs(elsewhere, TODAY)


@pytest.mark.usefixtures("frozen")
def test_a_refresh_leaves_stale_a_patient_written_since_it_read_the_rows(clinic, monkeypatch):
    """On PostgreSQL a write can commit while the refresh statement runs: its UPDATE then sees
    the newer row (a bumped version) but computed the need from the older data. Simulated here
    by a computation that read the version before the last: the row must stay stale, not take
    a need that misses the write."""
    patient = screened(clinic, "Raced")
    other = screened(clinic, "Calm")
    live = selectors.dashboard_needs_live

    def read_before_the_last_write(*, clinic, today, stale_only=False):
        version = F("dashboard_version")
        older = Case(
            When(pk=patient.pk, then=version - Value(1)),
            default=version,
            output_field=IntegerField(),
        )
        return live(clinic=clinic, today=today, stale_only=stale_only).values_list(
            "pk", "need", older
        )

    monkeypatch.setattr(selectors, "dashboard_needs_live", read_before_the_last_write)
    # Each process builds the statement once per clinic and day: build it anew from the
    # patched computation, and from the real one again after.
    refresh_statement.cache_clear()
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=TODAY
    )
    assert services.dashboard_refresh(clinic=clinic, today=TODAY) == 1  # the other one only
    patient.refresh_from_db()
    other.refresh_from_db()
    assert patient.dashboard_day is None
    assert other.dashboard_day == TODAY
    monkeypatch.undo()
    refresh_statement.cache_clear()
    assert services.dashboard_refresh(clinic=clinic, today=TODAY) == 1
    assert stored_needs(clinic) == live_needs(clinic, TODAY)


# --- What is stored is what the rules say -----------------------------------------------------


class ClinicLife:
    """A clinic's life in random steps through the services, the clock moving on now and then;
    after some steps the list's refresh runs and every stored need is compared with the need
    the rules give for the patients' rows at that moment."""

    def __init__(self, clinic, rng: random.Random, clock):
        self.clinic, self.rng, self.clock = clinic, rng, clock
        self.today = TODAY
        self.protocol = builtin_protocol()
        self.seen = 0  # every need seen, or-ed: which flags the run went through
        # The referral steps draw from their own generator (seeded from the main one's state
        # without drawing from it), so adding them left the other steps' draws unchanged.
        self.side = random.Random(rng.getstate()[1][0])

    def patients(self, **filters) -> list[Patient]:
        return list(Patient.objects.filter(clinic=self.clinic, **filters).order_by("pk"))

    def plans(self, *statuses) -> list[Plan]:
        return list(
            Plan.objects.filter(clinic=self.clinic, status__in=statuses)
            .select_related("patient")
            .order_by("pk")
        )

    def pick(self, items):
        return self.rng.choice(items) if items else None

    def side_pick(self, items):
        return self.side.choice(items) if items else None

    # The steps; each returns nothing and may be refused (RehabError), as at a real door.

    def new_patient(self):
        services.patient_create(
            clinic=self.clinic,
            actor=None,
            first_name="Pat",
            last_name=f"Random{self.rng.randrange(1000):03d}",
            condition="knee_oa",
        )

    def screen(self):
        patient = self.pick(self.patients(archived_at__isnull=True))
        if patient:
            # Now and then a red flag: an emergency (cauda equina) or urgent (DVT) referral.
            # Drawn from the side generator, so the other steps' draws stay as they were.
            red_flag = self.side.choice(
                ({},) * 6 + ({"saddle_anaesthesia": True}, {"suspected_dvt": True})
            )
            services.screening_submit(
                patient=patient,
                answers=clean_answers(patient.condition, **red_flag),
                actor=None,
                today=self.today - dt.timedelta(days=self.rng.choice((0, 0, 40, 80, 95))),
            )

    def act_on_referral(self):
        screening = self.side_pick(
            list(
                Screening.objects.filter(
                    clinic=self.clinic,
                    referral__in=("emergency", "urgent"),
                    referral_action__isnull=True,
                ).order_by("pk")
            )
        )
        if screening and self.side.random() < 0.5:
            services.referral_act(screening=screening, actor=None, action="Referred to A&E.")

    def assign(self):
        patient = self.pick(self.patients(archived_at__isnull=True))
        screening = patient and patient.screenings.order_by("-screened_on").first()
        if screening is not None:
            start = max(screening.screened_on, self.today - dt.timedelta(days=25))
            services.plan_assign(
                patient=patient,
                protocol=self.protocol,
                actor=None,
                start_date=start + dt.timedelta(days=self.rng.randrange(3)),
                auto_apply=self.rng.random() < 0.5,
                today=self.today,
            )

    def session(self):
        plan = self.pick(self.plans(Plan.Status.ACTIVE))
        if plan:
            day = self.today - dt.timedelta(days=self.rng.randrange(10))
            roll = self.rng.random()
            services.session_log(
                plan=plan,
                actor=None,
                date=max(day, plan.start_date),
                today=self.today,
                **good_session(
                    pain_before=2,
                    pain_next_morning=self.rng.choice((None, 1, 2, 4))
                    if day < self.today
                    else None,
                    fall=roll < 0.08,
                    chest_pain=0.08 <= roll < 0.12,
                ),
            )

    def good_days(self):
        """Good sessions every day of the last nine, settled by morning: an advance is earned,
        applied at once or awaiting approval as the plan says."""
        plan = self.pick(self.plans(Plan.Status.ACTIVE))
        for back in range(9, 0, -1) if plan else ():
            with contextlib.suppress(RehabError):  # a day already logged, or before the start
                services.session_log(
                    plan=plan,
                    actor=None,
                    date=self.today - dt.timedelta(days=back),
                    today=self.today,
                    **good_session(pain_next_morning=2),
                )

    def next_morning(self):
        session = self.pick(
            list(
                SessionLog.objects.filter(
                    plan__clinic=self.clinic, pain_next_morning__isnull=True, date__lt=self.today
                ).order_by("pk")
            )
        )
        if session:
            services.session_add_next_morning_pain(
                session=session, pain=self.rng.choice((1, 3, 6)), actor=None, today=self.today
            )

    def decide(self):
        decision = self.pick(
            list(
                ProgressionDecision.objects.filter(
                    plan__clinic=self.clinic, status=ProgressionDecision.Status.PENDING
                ).order_by("pk")
            )
        )
        if decision and self.rng.random() < 0.5:
            services.decision_approve(decision=decision, actor=None, today=self.today)
        elif decision:
            services.decision_reject(decision=decision, actor=None, note="Not yet.")

    def evaluate(self):
        plan = self.pick(self.plans(Plan.Status.ACTIVE))
        if plan:
            services.progression_evaluate(plan=plan, trigger="nightly", today=self.today)

    def change_plan(self):
        plan = self.pick(self.plans(*Plan.OPEN_STATUSES))
        if plan is None:
            return
        action = self.rng.choice(("pause", "resume", "complete", "discontinue", "level", "auto"))
        if action == "pause":
            services.plan_pause(plan=plan, actor=None)
        elif action == "resume":
            services.plan_resume(plan=plan, actor=None, today=self.today)
        elif action == "complete":
            services.plan_complete(plan=plan, actor=None)
        elif action == "discontinue":
            services.plan_discontinue(plan=plan, actor=None, reason="Moved away.")
        elif action == "level":
            level = self.rng.randrange(len(plan.levels))
            services.plan_set_level(
                plan=plan, level=level, actor=None, reason="Seen in clinic today.", today=self.today
            )
        else:
            services.plan_set_auto_apply(plan=plan, auto_apply=not plan.auto_apply, actor=None)

    def edit_or_archive(self):
        patient = self.pick(self.patients(archived_at__isnull=True))
        if patient and self.rng.random() < 0.3:
            services.patient_archive(patient=patient, actor=None)
        elif patient:
            services.patient_update(patient=patient, actor=None, phone="+44 1632 960000")

    def next_days(self):
        self.today += dt.timedelta(days=self.rng.choice((1, 1, 3, 8)))
        self.clock.move_to(at_noon(self.today))

    STEPS = (
        (new_patient, 2),
        (screen, 3),
        (assign, 3),
        (session, 8),
        (good_days, 1),
        (next_morning, 2),
        (decide, 2),
        (evaluate, 2),
        (change_plan, 3),
        (edit_or_archive, 1),
        (next_days, 2),
    )

    def step(self):
        steps, weights = zip(*self.STEPS, strict=True)
        (chosen,) = self.rng.choices(steps, weights)
        with contextlib.suppress(RehabError):  # refused as at a door: nothing was written
            chosen(self)
        if self.side.random() < 0.1:
            self.act_on_referral()

    def check(self):
        services.dashboard_refresh(clinic=self.clinic, today=self.today)
        stored, live = stored_needs(self.clinic), live_needs(self.clinic, self.today)
        assert stored == live, f"{self.today}: {stored} != {live}"
        assert set(
            Patient.objects.filter(clinic=self.clinic).values_list("dashboard_day", flat=True)
        ) <= {self.today}
        for need in stored.values():
            self.seen |= need


def test_the_stored_need_is_what_the_rules_say_through_random_writes_and_days(clinic, frozen):
    """Several clinics' random lives: a write that forgot to mark its patient stale, or a flag
    that moves with the date but is not recomputed, makes a stored need differ from the live
    one. The runs go through every flag."""
    seen = 0
    for seed in range(4):
        life = ClinicLife(ClinicFactory(), random.Random(seed), frozen)
        for _ in range(6):
            life.new_patient()
        for _ in range(90):
            life.step()
            if life.rng.random() < 0.4:
                life.check()
        life.check()
        seen |= life.seen
        frozen.move_to(at_noon(TODAY))
    missing = [flag.code for flag in selectors.DASHBOARD_FLAGS if not seen & flag.weight]
    assert missing == []


# --- PostgreSQL: a write committing while the refresh runs -----------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_a_fall_committed_during_a_refresh_is_not_lost(frozen):
    clinic = ClinicFactory()
    ClinicianFactory(clinic=clinic)
    plan = plan_for(clinic, "Racer", start=days_ago(20))
    log_this_week(plan)  # stale: marked by these writes, not refreshed yet
    written, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def fall():
        try:
            with transaction.atomic():
                log(plan, days_ago(1), fall=True)  # marks the patient, holds the row
                written.set()
                go.wait(10)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def refresh():
        try:
            services.dashboard_refresh(clinic=clinic, today=TODAY)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=fall)
    writer.start()
    assert written.wait(10)
    # The refresh reads the rows as they were before the fall, and skips the row the fall's
    # transaction holds (test_the_refresh_never_waits_...) rather than store what it read.
    refresher = threading.Thread(target=refresh)
    refresher.start()
    refresher.join(10)
    go.set()
    writer.join(10)
    refresher.join(10)
    assert not errors
    patient = Patient.objects.get(pk=plan.patient_id)
    assert patient.dashboard_day is None  # left for the next refresh, not stored without the fall
    services.dashboard_refresh(clinic=clinic, today=TODAY)
    patient.refresh_from_db()
    assert [f.code for f in selectors.dashboard_flags_of(patient.dashboard_need)] == [
        "safety_pause",
        "screening_expired",
    ]
    assert Screening.objects.filter(patient=patient, invalidated_at__isnull=True).count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.django_db(transaction=True)
def test_the_refresh_never_waits_for_a_patient_another_transaction_is_writing(frozen):
    # A refresh that waited for a row could deadlock with a write holding several patients'
    # rows (the nightly batch marks its changed patients stale in one UPDATE; two refreshes
    # at once, each in its own order): PostgreSQL would abort one side, and a clinician's
    # Today would fail. It skips the row instead; the patient stays stale for the next one.
    clinic = ClinicFactory()
    ClinicianFactory(clinic=clinic)
    busy = screened(clinic, "Busy")
    free = screened(clinic, "Free")
    held, go, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold():
        try:
            with transaction.atomic():
                Patient.objects.select_for_update().get(pk=busy.pk)
                held.set()
                go.wait(10)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def refresh():
        try:
            services.dashboard_refresh(clinic=clinic, today=TODAY)
            done.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    refresher = threading.Thread(target=refresh)
    refresher.start()
    waited = False
    with connection.cursor() as cursor:
        while refresher.is_alive():  # until it is done, or waits for the held row
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                waited = True
                break
            time.sleep(0.02)
    go.set()
    holder.join(10)
    refresher.join(10)
    assert not errors
    assert not waited
    assert Patient.objects.get(pk=free.pk).dashboard_day == TODAY
    assert Patient.objects.get(pk=busy.pk).dashboard_day is None  # for the next refresh
    services.dashboard_refresh(clinic=clinic, today=TODAY)
    assert Patient.objects.get(pk=busy.pk).dashboard_day == TODAY
