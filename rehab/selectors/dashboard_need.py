"""The Today list's flags as SQL: each patient's need, one integer made of the flags that apply."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Substr

from rehab.clinical import adherence
from rehab.models import (
    Clinic,
    Patient,
    Plan,
    ProgressionDecision,
    Screening,
    SessionLog,
)
from rehab.selectors.referrals import referrals_unacted

SCREENING_EXPIRY_WARNING_DAYS = 14  # [I] how far ahead an expiring screening is mentioned


@dataclass(frozen=True)
class DashboardFlag:
    code: str
    label: str
    tone: str  # badge style: danger, warn or info (the words say it too, never colour alone)
    weight: int = 0  # its bit in the need score; set below from the order of DASHBOARD_FLAGS


# Most urgent first. A patient's need is the sum of their flags' weights, each a power of two
# twice the next one's, so the list is sorted by the most urgent flag first, then by the next:
# one safety pause outranks any number of lesser flags, and the flags can be read back from the
# score alone (need & weight).
# The two referral flags come first: a cauda equina or DVT referral nobody recorded as acted on
# outranks anything a plan can show (they stay until a clinician records the action,
# services.referral_act).
_DASHBOARD_FLAG_ROWS = (
    ("referral_emergency", "Emergency referral not acted on", "danger"),
    ("referral_urgent", "Urgent referral not acted on", "danger"),
    ("safety_pause", "Paused by a safety event", "danger"),
    ("pending_decision", "Decision awaiting approval", "warn"),
    ("pain_unsettled", "Next-morning pain not settled", "warn"),
    ("screening_expired", "Screening expired", "danger"),
    ("non_adherent", "Low adherence this week", "warn"),
    ("screening_due", "Screening due soon", "info"),
    ("screening_needed", "Screening needed", "info"),
    ("no_plan", "No plan yet", "info"),
)


DASHBOARD_FLAGS = tuple(
    DashboardFlag(code, label, tone, weight=2 ** (len(_DASHBOARD_FLAG_ROWS) - 1 - rank))
    for rank, (code, label, tone) in enumerate(_DASHBOARD_FLAG_ROWS)
)


DASHBOARD_FLAGS_BY_CODE = {flag.code: flag for flag in DASHBOARD_FLAGS}


class JSONArrayLength(Func):
    """The length of a JSON array column (SQLite; PostgreSQL spells it for jsonb)."""

    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra_context)


class JSONLevel(Func):
    """The item at an integer position of a JSON array column (a plan's level at its current
    level), read in the database so a page does not fetch every level; NULL past the end. The
    whole level, not just its name: the name shown is the one capped by the plan's
    constraints."""

    output_field = JSONField()

    def __init__(self, levels, position):
        super().__init__(levels, position)

    def _parts(self, compiler):
        (levels, levels_params), (position, position_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        return levels, position, (*levels_params, *position_params)

    def as_sql(self, compiler, connection, **extra_context):
        levels, position, params = self._parts(compiler)
        return f"JSON_EXTRACT({levels}, '$[' || ({position}) || ']')", params

    def as_postgresql(self, compiler, connection, **extra_context):
        levels, position, params = self._parts(compiler)
        return f"(({levels}) -> ({position})::integer)", params


class JSONHasInt(Func):
    """Whether a JSON array column holds the integer `value` (a weekday of a plan's schedule)."""

    template = "EXISTS (SELECT 1 FROM JSON_EACH(%(expressions)s) WHERE value = %(value)d)"
    output_field = BooleanField()

    def __init__(self, expression, *, value: int):
        super().__init__(expression, value=int(value))

    def as_postgresql(self, compiler, connection, **extra_context):
        # An array contains a bare number when it holds it as an element.
        template = "(%(expressions)s @> '%(value)d'::jsonb)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


class PausedOn(Func):
    """Whether one of a plan's pause spans (Plan.pauses: [first day, day resumed or null], ISO
    dates) covers `day`: ISO dates compare as text in the order of the days."""

    output_field = BooleanField()
    _SPAN = "{first} <= %s AND ({until} IS NULL OR {until} > %s)"

    def __init__(self, expression, *, day: dt.date):
        super().__init__(expression)
        self.day = day

    def _sql(self, compiler, table: str, first: str, until: str):
        (column, params), day = compiler.compile(self.source_expressions[0]), self.day.isoformat()
        span = self._SPAN.format(first=first, until=until)
        return f"EXISTS (SELECT 1 FROM {table.format(column)} WHERE {span})", (*params, day, day)

    def as_sql(self, compiler, connection, **extra_context):
        value = "JSON_EXTRACT(s.value, '$[{}]')"
        return self._sql(compiler, "JSON_EACH({}) AS s", value.format(0), value.format(1))

    def as_postgresql(self, compiler, connection, **extra_context):
        return self._sql(compiler, "JSONB_ARRAY_ELEMENTS({}) AS s(v)", "s.v ->> 0", "s.v ->> 1")


class PausedAllDay(PausedOn):
    """Whether a pause that began before `day` still ran on it (adherence's
    PlanDays.paused_all_day): a walk logged for such a day is no planned session."""

    _SPAN = "{first} < %s AND ({until} IS NULL OR {until} > %s)"


def planned_sessions_sql(
    today: dt.date, *, settings: adherence.AdherenceSettings = adherence.DEFAULT_SETTINGS
) -> ExpressionWrapper:
    """The open plan's planned sessions in the flag's window (the 7 days to today) as one
    integer, done * base + missed (base = PLANNED_BASE(settings), decoded by
    planned_sessions_of), in SQL: the low-adherence flag sorts and filters the list. The SQL
    twin of rehab.clinical.adherence for an open plan (which has no end yet), held to it by
    tests/selectors/test_adherence_sql.py. Day by day, each day's date and weekday known here: a
    day of the plan on one of its weekdays is done when walked and not paused from before it
    began, missed when over without a walk and the plan was not paused that day. One number so
    the flag reads it once (a condition that named done and due apart would run the subqueries
    for each); each condition names its cheap test first (the plan's dates, its weekdays, its
    pauses), so the sessions' index is probed for plan days only."""
    schedule, pauses = F("dash_plan__schedule_days"), F("dash_plan__pauses")
    base = _planned_base(settings)
    total = Value(0)
    for days_ago in range(settings.review_window_days):
        day = today - dt.timedelta(days=days_ago)
        plan_day = Q(dash_plan__start_date__lte=day) & Q(JSONHasInt(schedule, value=day.weekday()))
        walked = Q(Exists(SessionLog.objects.filter(plan_id=OuterRef("plan_id"), date=day)))
        cases = [When(plan_day & ~Q(PausedAllDay(pauses, day=day)) & walked, then=base)]
        if day < today:  # today is not missed before it is over: there is still time to walk
            cases.append(When(plan_day & ~Q(PausedOn(pauses, day=day)), then=1))
        total = total + Case(*cases, default=0)
    return ExpressionWrapper(total, output_field=IntegerField())


def _planned_base(settings: adherence.AdherenceSettings = adherence.DEFAULT_SETTINGS) -> int:
    return settings.review_window_days + 1  # more than the days that can be missed


def planned_sessions_of(
    value: int, settings: adherence.AdherenceSettings = adherence.DEFAULT_SETTINGS
) -> tuple[int, int]:
    """(done, due) from planned_sessions_sql's number."""
    done, missed = divmod(value, _planned_base(settings))
    return done, done + missed


def low_adherence_values(
    settings: adherence.AdherenceSettings = adherence.DEFAULT_SETTINGS,
) -> list[int]:
    """The numbers of planned_sessions_sql that the rule flags (adherence.flag_low), so the SQL
    takes its thresholds from the rule itself."""
    base, days = _planned_base(settings), settings.review_window_days
    return [
        done * base + missed
        for done in range(days + 1)
        for missed in range(days + 1 - done)
        if adherence.flag_low(done, done + missed, settings)
    ]


def with_open_plan(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """The patients joined to their open plan, if any (plan_id, plan_status). A patient has at
    most one open plan (a unique constraint), so the join never repeats a patient."""
    return patients.alias(
        dash_plan=FilteredRelation("plans", condition=Q(plans__status__in=Plan.OPEN_STATUSES))
    ).alias(plan_id=F("dash_plan__id"), plan_status=F("dash_plan__status"))


def _dashboard_base(clinic: Clinic, today: dt.date) -> tuple[QuerySet[Patient], dict]:
    """The clinic's patients with what the flags are made of as aliases, and each flag's
    condition, for the clinic-local day `today`. A flag reads nothing but the rows of the
    patient, their screenings, plans, sessions and decisions, and the date: whoever writes one
    of those marks the patient stale (services.dashboard_mark_stale), and a new day recomputes all.

    Every subquery is keyed by the patient or by their open plan's id (indexes on (plan, date),
    (status, plan), (plan, -created_at), the unsettled sessions and the screenings' patient), so
    working out a handful of stale patients reads their rows alone. Each condition names its
    cheap test first: AND stops at the first false, so a subquery runs only for the patients it
    can concern.
    """
    due_by = today + dt.timedelta(days=SCREENING_EXPIRY_WARNING_DAYS)
    Outcome, Status = ProgressionDecision.Outcome, ProgressionDecision.Status
    decisions = ProgressionDecision.objects.filter(plan_id=OuterRef("plan_id"))
    # The patient's screenings, not the plan's: a patient re-screened while the plan runs is not
    # due again. Has the patient a screening valid today; one still valid once the warning
    # period is over? Found by the patient alone (a screening is of the patient's clinic): a
    # clinic-wide index would make each patient's probe read the whole clinic's screenings.
    screenings = Screening.objects.filter(
        patient_id=OuterRef("pk"), invalidated_at__isnull=True, screened_on__lte=today
    )
    screened = Q(Exists(screenings.filter(valid_until__gte=today)))
    screened_beyond = Q(Exists(screenings.filter(valid_until__gt=due_by)))
    # A safety pause is applied by a decision (services.evaluate_locked), which writes its
    # first reason on the plan as status_reason; a clinician's pause (services.plan_pause)
    # writes theirs and makes no decision. So a paused plan was stopped by a fall, chest pain or
    # severe pain when its latest decision is a pause whose first reason is still the plan's.
    # Only paused plans are looked at.
    # A referral is flagged from any screening of the patient, valid or not, until a clinician
    # records it as acted on (referrals_unacted, the definition the page and digest share).
    unacted = referrals_unacted().filter(patient_id=OuterRef("pk"))
    safety_reason = Substr(
        KT("reasons__0__text"), 1, Plan._meta.get_field("status_reason").max_length
    )
    patients = with_open_plan(Patient.objects.filter(clinic=clinic)).alias(
        has_emergency_referral=Exists(unacted.filter(referral=Screening.Referral.EMERGENCY)),
        has_urgent_referral=Exists(unacted.filter(referral=Screening.Referral.URGENT)),
        pause_reason=Case(
            When(
                dash_plan__status=Plan.Status.PAUSED,
                then=Subquery(
                    decisions.order_by("-created_at", "-id").values(
                        reason=Case(When(outcome=Outcome.PAUSE, then=safety_reason))
                    )[:1]
                ),
            ),
        ),
        has_pending=Exists(decisions.filter(status=Status.PENDING)),
        has_unsettled=Exists(
            SessionLog.objects.filter(
                plan_id=OuterRef("plan_id"),
                date__gte=today - dt.timedelta(days=6),
                date__lte=today,
                pain_next_morning__gt=F("pain_before"),
            )
        ),
        planned_7=planned_sessions_sql(today),
        had_plan=Case(
            When(dash_plan__id__isnull=False, then=True),
            default=Exists(Plan.objects.filter(patient_id=OuterRef("pk"))),
            output_field=BooleanField(),
        ),
    )
    has_open = Q(plan_id__isnull=False)
    new_patient = Q(plan_id__isnull=True) & Q(archived_at__isnull=True) & Q(had_plan=False)
    flags = {
        "referral_emergency": Q(has_emergency_referral=True),
        "referral_urgent": Q(has_urgent_referral=True),
        "safety_pause": Q(plan_status=Plan.Status.PAUSED)
        & Q(pause_reason=F("dash_plan__status_reason")),
        "pending_decision": has_open & Q(has_pending=True),
        # The digest's rule (digest_for): next-morning pain above that session's pain before.
        "pain_unsettled": has_open & Q(has_unsettled=True),
        "screening_expired": has_open & ~screened,
        # The digest's rule too (rehab.clinical.adherence.flag_low): under half of at least 2
        # planned sessions due in the last 7 days were done.
        "non_adherent": Q(plan_status=Plan.Status.ACTIVE) & Q(planned_7__in=low_adherence_values()),
        "screening_due": has_open & screened & ~screened_beyond,
        "screening_needed": new_patient & ~screened,
        "no_plan": new_patient & screened,
    }
    return patients, flags


def _need_score(flags: dict[str, Q]) -> ExpressionWrapper:
    score = Value(0)
    for flag in DASHBOARD_FLAGS:
        score = score + Case(When(flags[flag.code], then=Value(flag.weight)), default=Value(0))
    return ExpressionWrapper(score, output_field=IntegerField())


def dashboard_needs_live(*, clinic: Clinic, today: dt.date, stale_only: bool = False) -> QuerySet:
    """(pk, need, dashboard_version) of the clinic's patients, the need worked out now from
    their rows for the clinic-local day `today`: what services.dashboard_refresh stores as
    Patient.dashboard_need. stale_only: only the patients whose stored need is not for `today`
    (never computed, marked stale by a write, or computed another day), found by the indexes on
    dashboard_day. For the services and tests, not for a door (no principal)."""
    patients, flags = _dashboard_base(clinic, today)
    if stale_only:
        # Three index ranges put together, not one OR, which SQLite would test on every patient.
        ids = Patient.objects.filter(clinic=clinic).order_by().values("pk")
        patients = patients.filter(
            pk__in=ids.filter(dashboard_day__isnull=True).union(
                ids.filter(dashboard_day__lt=today), ids.filter(dashboard_day__gt=today), all=True
            )
        )
    return (
        patients.annotate(need=_need_score(flags))
        .order_by()
        .values_list("pk", "need", "dashboard_version")
    )


def dashboard_flags_of(need: int) -> list[DashboardFlag]:
    """The flags a need score is made of, most urgent first."""
    return [flag for flag in DASHBOARD_FLAGS if need & flag.weight]
