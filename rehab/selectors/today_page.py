"""The clinician's Today page: the clinic's patients sorted by need, a page of rows at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from rehab import wording
from rehab.access import Principal
from rehab.clinical import adherence
from rehab.clinical.adherence import Adherence, PlanDays
from rehab.clinical.levels import prescribed_name
from rehab.models import (
    Patient,
    Plan,
    ProgressionDecision,
    SessionLog,
)
from rehab.selectors.dashboard_need import (
    DASHBOARD_FLAGS,
    DASHBOARD_FLAGS_BY_CODE,
    JSONArrayLength,
    JSONLevel,
    dashboard_flags_of,
    with_open_plan,
)
from rehab.selectors.search import patients_matching

# The clinic's patients, sorted by need. Every flag is an SQL condition and a patient's need is
# one integer made of them (_dashboard_base, _need_score: the one definition of the flags). The
# need is stored on the patient (Patient.dashboard_need, for the day in dashboard_day):
# services.dashboard_refresh works it out again, in one statement, for the patients a write
# marked stale and for everyone once a day, and the list reads it from an index. So a request
# costs the same few queries and nearly the same time for 10 patients or 10,000; what is only
# shown (level names, 28-day adherence, the pain trend) is worked out in Python for the rows of
# the page alone.

DASHBOARD_PAGE_SIZE = 25


# [I] Pain trend: mean pain after the session over the last 3 sessions against the 3 before (at
# least 2 in each group, within the last 28 days). A whole point on the 0-10 scale either way is
# a trend; less is steady. Sessions rather than calendar weeks, so a patient who logs twice a
# week is compared like one who logs daily.
PAIN_TREND_SESSIONS = 3


PAIN_TREND_MIN_SESSIONS = 2


PAIN_TREND_CHANGE = 1.0


DASHBOARD_RECENT_DAYS = 28


DASHBOARD_ATTENTION = "attention"  # the filter "any flag at all"


DASHBOARD_STATUSES = {
    "active": "Active plan",
    "paused": "Paused plan",
    "ended": "Plan completed or discontinued",
    "none": "No plan yet",
    "archived": "Archived patients",
}


def patient_list_for_dashboard(
    *,
    principal: Principal,
    search: str = "",
    flag: str = "",
    condition: str = "",
    status: str = "",
    include_archived: bool = False,
) -> QuerySet[Patient]:
    """The clinic's patients most in need first, then by name: by their stored need
    (Patient.dashboard_need, see DASHBOARD_FLAGS), which services.dashboard_refresh brings up to
    the clinic's day; a door calls it first. The order, the flag filters, a search and the count
    read the index of the clinic's patients not archived by (-dashboard_need, last_name,
    first_name, id), no flag's rows; on PostgreSQL a search finds its matches through its own
    trigram index (rehab.selectors.search). Pass a page of them to dashboard_rows for what it
    shows, and the list to dashboard_paginator for its pages.

    flag: a DASHBOARD_FLAGS code, or DASHBOARD_ATTENTION for any flag; status: a key of
    DASHBOARD_STATUSES ("archived" lists only archived patients); condition: a condition code.
    """
    if not principal.is_staff:
        return Patient.objects.none()
    patients = Patient.objects.filter(clinic=principal.clinic)
    if status == "archived":
        # An erased patient is archived too, and listed nowhere.
        patients = patients.filter(archived_at__isnull=False, erased_at__isnull=True)
    elif include_archived:
        patients = patients.filter(erased_at__isnull=True)
    else:
        patients = patients.filter(archived_at__isnull=True)
    if condition:
        patients = patients.filter(condition=condition)
    patients = patients_matching(patients, search)
    # A patient has at most one open plan (a unique constraint): a plan in an open status is it.
    # Each test is one probe of the index of the plans' (patient, status) (dashboard_plan_
    # status_idx), for the patients the other filters left.
    plans = Plan.objects.filter(patient_id=OuterRef("pk"))
    if status in (Plan.Status.ACTIVE, Plan.Status.PAUSED):
        patients = patients.filter(Exists(plans.filter(status=status)))
    elif status == "ended":
        patients = patients.filter(
            Exists(plans), ~Exists(plans.filter(status__in=Plan.OPEN_STATUSES))
        )
    elif status == "none":
        patients = patients.filter(~Exists(plans))
    if flag == DASHBOARD_ATTENTION:
        patients = patients.filter(dashboard_need__gt=0)
    elif flag in DASHBOARD_FLAGS_BY_CODE:
        weight = DASHBOARD_FLAGS_BY_CODE[flag].weight
        patients = patients.alias(flag_bit=F("dashboard_need").bitand(weight)).filter(
            flag_bit__gt=0
        )
    return patients.order_by("-dashboard_need", "last_name", "first_name", "pk")


def dashboard_flag_counts(*, principal: Principal) -> dict[str, int]:
    """How many of the clinic's patients (not archived) carry each flag, how many carry any
    ("attention") and how many there are ("total"), from their stored need (refreshed first,
    as for the list). One query reading the index alone: the patients grouped by need, at most
    one row per combination of flags."""
    counts = {flag.code: 0 for flag in DASHBOARD_FLAGS} | {"attention": 0, "total": 0}
    if not principal.is_staff:
        return counts
    by_need = (
        Patient.objects.filter(clinic=principal.clinic, archived_at__isnull=True)
        .order_by()
        .values("dashboard_need")
        # COUNT(*): rows counted, no column of each tested for NULL.
        .annotate(n=Count("*"))
        .values_list("dashboard_need", "n")
    )
    for need, n in by_need:
        counts["total"] += n
        if need:
            counts["attention"] += n
        for flag in dashboard_flags_of(need):
            counts[flag.code] += n
    return counts


def dashboard_paginator(
    patients: QuerySet[Patient],
    counts: dict[str, int],
    *,
    search: str = "",
    flag: str = "",
    condition: str = "",
    status: str = "",
) -> Paginator:
    """Pages of DASHBOARD_PAGE_SIZE of patient_list_for_dashboard's list for these filters, and
    how many it holds. Unless a search, condition or status narrows it (everyone, or those with
    a flag), dashboard_flag_counts' figures say how many: no COUNT over the clinic."""
    paginator = Paginator(patients, DASHBOARD_PAGE_SIZE)
    if not search.strip() and not condition and not status:
        paginator.count = counts["total"] if not flag else counts[flag]
    return paginator


@dataclass(frozen=True)
class PainTrend:
    direction: str  # "worse", "better", "steady" or "" (too few sessions to say)
    recent: float | None = None
    previous: float | None = None

    @property
    def arrow(self) -> str:
        return {"worse": "↑", "better": "↓", "steady": "→"}.get(self.direction, "")


@dataclass(frozen=True)
class RowFlag:
    code: str
    text: str
    tone: str


@dataclass
class DashboardRow:
    patient: Patient
    need: int
    flags: list[RowFlag]
    plan_id: int | None = None
    plan_status: str = ""  # the open plan's, else the latest ended plan's, else ""
    plan_status_reason: str = ""
    level_number: int | None = None
    level_count: int | None = None
    level_name: str = ""
    adherence_7: Adherence | None = None
    adherence_28: Adherence | None = None
    last_session: dt.date | None = None
    days_since_last_session: int | None = None
    pain_trend: PainTrend = field(default_factory=lambda: PainTrend(""))

    @property
    def adherences(self) -> tuple[Adherence | None, Adherence | None]:
        """The last 7 days', then the last 28 days', as the table's columns show them."""
        return self.adherence_7, self.adherence_28


def pain_trend_of(pains_after: list[int]) -> PainTrend:
    """pains_after: newest first."""
    recent = pains_after[:PAIN_TREND_SESSIONS]
    previous = pains_after[PAIN_TREND_SESSIONS : 2 * PAIN_TREND_SESSIONS]
    if len(recent) < PAIN_TREND_MIN_SESSIONS or len(previous) < PAIN_TREND_MIN_SESSIONS:
        return PainTrend("")
    recent_mean, previous_mean = sum(recent) / len(recent), sum(previous) / len(previous)
    change = recent_mean - previous_mean
    if change >= PAIN_TREND_CHANGE:
        direction = "worse"
    elif change <= -PAIN_TREND_CHANGE:
        direction = "better"
    else:
        direction = "steady"
    return PainTrend(direction, round(recent_mean, 1), round(previous_mean, 1))


def _level_name(name: str, number: int) -> str:
    """A built-in level's name starts with "Level N: "; the row says the number already."""
    prefix = f"Level {number}: "
    return name[len(prefix) :] if name.startswith(prefix) else name


def dashboard_rows(
    *, principal: Principal, today: dt.date, patients: list[Patient]
) -> list[DashboardRow]:
    """What the Today list shows for a page of patients from patient_list_for_dashboard (their
    stored `dashboard_need` says their flags), in their order: three queries for any page
    size."""
    if not patients or not principal.is_staff:
        return []
    start_28 = today - dt.timedelta(days=DASHBOARD_RECENT_DAYS - 1)
    # Found by primary key, the clinic checked below: asked for the clinic as well, SQLite would
    # rather read the whole clinic's index than 25 rows by their keys.
    details = {
        row["pk"]: row
        for row in with_open_plan(Patient.objects.filter(pk__in=[p.pk for p in patients]))
        .annotate(
            plan_id_=F("dash_plan__id"),
            plan_status_=F("dash_plan__status"),
            plan_status_reason=F("dash_plan__status_reason"),
            plan_level=F("dash_plan__current_level"),
            plan_level_count=JSONArrayLength("dash_plan__levels"),
            plan_level_json=JSONLevel("dash_plan__levels", "dash_plan__current_level"),
            plan_constraints=F("dash_plan__constraints"),
            plan_schedule=F("dash_plan__schedule_days"),
            plan_start=F("dash_plan__start_date"),
            plan_pauses=F("dash_plan__pauses"),
            last_session=Subquery(
                SessionLog.objects.filter(patient_id=OuterRef("pk"))
                .order_by("-date")
                .values("date")[:1]
            ),
            ended_status=Subquery(
                Plan.objects.filter(patient_id=OuterRef("pk"))
                .order_by("-created_at", "-id")
                .values("status")[:1]
            ),
        )
        .values(
            "pk",
            "clinic_id",
            "plan_id_",
            "plan_status_",
            "plan_status_reason",
            "plan_level",
            "plan_level_count",
            "plan_level_json",
            "plan_constraints",
            "plan_schedule",
            "plan_start",
            "plan_pauses",
            "last_session",
            "ended_status",
        )
    }
    plan_ids = [d["plan_id_"] for d in details.values() if d["plan_id_"] is not None]
    pains: dict[int, list[int]] = {}
    walked_28: dict[int, set[dt.date]] = {}
    for plan_id, day, pain_after in (
        SessionLog.objects.filter(plan_id__in=plan_ids, date__gte=start_28, date__lte=today)
        .order_by("plan_id", "-date")
        .values_list("plan_id", "date", "pain_after")
    ):
        pains.setdefault(plan_id, []).append(pain_after)
        walked_28.setdefault(plan_id, set()).add(day)
    pause_codes: dict[int, list[str]] = {}
    pending: dict[int, ProgressionDecision] = {}
    for decision in (
        ProgressionDecision.objects.filter(plan_id__in=plan_ids)
        .filter(
            Q(status=ProgressionDecision.Status.PENDING)
            | Q(outcome=ProgressionDecision.Outcome.PAUSE)
        )
        .order_by("plan_id", "-created_at", "-id")
        .only("plan_id", "outcome", "status", "from_level", "to_level", "reasons")
    ):
        if decision.status == ProgressionDecision.Status.PENDING:
            pending.setdefault(decision.plan_id, decision)
        elif decision.plan_id not in pause_codes:  # the latest pause only
            pause_codes[decision.plan_id] = [
                r["code"] for r in decision.reasons if r.get("outcome") == "pause"
            ]
    rows = []
    for patient in patients:
        d = details.get(patient.pk)
        if d is None or d["clinic_id"] != principal.clinic.pk:  # another clinic's: never shown
            continue
        row = DashboardRow(
            patient=patient,
            need=patient.dashboard_need,
            flags=[],
            last_session=d["last_session"],
        )
        if row.last_session is not None:
            row.days_since_last_session = (today - row.last_session).days
        plan_id = d["plan_id_"]
        if plan_id is None:
            row.plan_status = d["ended_status"] or ""
        else:
            row.plan_id = plan_id
            row.plan_status = d["plan_status_"]
            row.plan_status_reason = d["plan_status_reason"]
            row.level_count = d["plan_level_count"] or 0
            if 0 <= d["plan_level"] < row.level_count:
                row.level_number = d["plan_level"] + 1
                level = d["plan_level_json"]
                name = (
                    prescribed_name(level, d["plan_constraints"]) if isinstance(level, dict) else ""
                )
                row.level_name = _level_name(name, row.level_number)
            # The one rule (rehab.clinical.adherence); the need's SQL twin agrees with it.
            plan_days = PlanDays(
                start=d["plan_start"],
                schedule_days=frozenset(d["plan_schedule"]),
                pauses=adherence.pauses_from_json(d["plan_pauses"]),
            )
            walked = walked_28.get(plan_id, set())
            row.adherence_7, row.adherence_28 = adherence.adherences(
                plan_days,
                firsts=(adherence.review_window(today), start_28),
                last=today,
                walked=walked,
                today=today,
            )
            row.pain_trend = pain_trend_of(pains.get(plan_id, []))
        for flag in dashboard_flags_of(patient.dashboard_need):
            text = flag.label
            if flag.code == "safety_pause":
                words = [
                    wording.adverse_event(code, wording.CLINICIAN).lower()
                    for code in pause_codes.get(plan_id, [])
                ]
                text = "Paused: " + ", ".join(words) if words else flag.label
            elif flag.code == "pending_decision" and plan_id in pending:
                decision = pending[plan_id]
                text = (
                    f"Awaiting approval: {decision.get_outcome_display().lower()} to level "
                    f"{decision.to_level + 1}"
                )
            elif flag.code == "non_adherent":
                text = f"Low adherence {row.adherence_7.done}/{row.adherence_7.due}"
            elif flag.code == "pain_unsettled":
                text = "Next-morning pain up"
            row.flags.append(RowFlag(flag.code, text, flag.tone))
        rows.append(row)
    return rows
