"""Every read a screen, endpoint or service needs, scoped to whoever is asking.

Doors pass the acting clinic or patient; a selector never returns another clinic's rows.
"""

from __future__ import annotations

import datetime as dt
import hmac
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
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
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from rehab import scheduling, wording
from rehab.access import Principal, api_key_hash
from rehab.clinical import outcomes as clinical_outcomes
from rehab.clinical import progression as clinical_progression
from rehab.clinical import protocols as clinical_protocols
from rehab.clinical import screening as clinical_screening
from rehab.clinical.levels import CappedLevel, Constraints, prescribed_name
from rehab.models import (
    ApiKey,
    AuditEvent,
    CalendarFeed,
    Clinic,
    ClinicalNote,
    Clinician,
    OutcomeScore,
    Patient,
    PersonalToken,
    Plan,
    PortalInvite,
    ProgressionDecision,
    Protocol,
    QuestionnaireDraft,
    ReferralAction,
    Reminder,
    Report,
    Screening,
    SessionLog,
    User,
)


def patient_list(*, clinic: Clinic, include_archived: bool = False) -> QuerySet[Patient]:
    patients = Patient.objects.filter(clinic=clinic)
    if not include_archived:
        patients = patients.filter(archived_at__isnull=True)
    return patients


def patient_get(*, clinic: Clinic, patient_id: int) -> Patient:
    """The clinic's patient, or Patient.DoesNotExist: another clinic's id is simply not found."""
    return Patient.objects.select_related("clinic").get(clinic=clinic, pk=patient_id)


def protocol_library(*, clinic: Clinic) -> QuerySet[Protocol]:
    """Built-ins and the clinic's own protocols, never another clinic's copies."""
    return Protocol.objects.filter(Q(clinic__isnull=True) | Q(clinic=clinic)).prefetch_related(
        "levels"
    )


def screening_current(*, patient: Patient, today: dt.date) -> Screening | None:
    """The latest screening still valid today (not expired, not invalidated by a fall)."""
    return (
        Screening.objects.filter(
            patient=patient,
            invalidated_at__isnull=True,
            screened_on__lte=today,
            valid_until__gte=today,
        )
        .order_by("-screened_at", "-id")
        .first()
    )


def plan_open(*, patient: Patient) -> Plan | None:
    return Plan.objects.filter(patient=patient, status__in=Plan.OPEN_STATUSES).first()


def plan_recent_advance_dates(*, plan: Plan, today: dt.date) -> list[dt.date]:
    """Dates of the advances applied in the last 7 days (CLINICAL.md §1: at most 2 steps in 7)."""
    return list(
        plan.decisions.filter(
            outcome=ProgressionDecision.Outcome.ADVANCE,
            status__in=(ProgressionDecision.Status.APPLIED, ProgressionDecision.Status.APPROVED),
            applied_on__gte=today - dt.timedelta(days=6),
            applied_on__lte=today,
        ).values_list("applied_on", flat=True)
    )


def plan_ids_active() -> QuerySet[Plan]:
    """Every active plan's id, in id order, for the nightly progression run to page through."""
    return (
        Plan.objects.filter(status=Plan.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)
    )


def decisions_pending(*, clinic: Clinic) -> QuerySet[ProgressionDecision]:
    return ProgressionDecision.objects.filter(
        plan__clinic=clinic, status=ProgressionDecision.Status.PENDING
    ).select_related("plan__patient")


def outcome_changes(*, patient: Patient, measure: str) -> tuple[clinical_outcomes.Change, ...]:
    """The latest score of a measure against the patient's first (the baseline)."""
    scores = list(
        OutcomeScore.objects.filter(patient=patient, measure=measure)
        .order_by("taken_on", "id")
        .values_list("scores", flat=True)
    )
    if len(scores) < 2:
        return ()
    return clinical_outcomes.change(measure, scores[0], scores[-1])


# --- Scoped by the acting principal (the API and the doors) ----------------------------------
# Staff (clinicians, API keys) see their clinic; a patient sees only their own rows. Role
# checks (who may use an endpoint at all) are the doors' permissions; these scopes are the
# second line, so a forgotten check still shows nothing of another clinic or patient.


def _scope(queryset: QuerySet, principal: Principal, patient_path: str = "patient") -> QuerySet:
    if principal.is_staff:
        return queryset.filter(**{f"{patient_path}__clinic": principal.clinic})
    return queryset.filter(**{patient_path: principal.patient})


def patients_for(principal: Principal) -> QuerySet[Patient]:
    if principal.is_staff:
        return Patient.objects.filter(clinic=principal.clinic)
    return Patient.objects.filter(pk=principal.patient.pk)


def screenings_for(principal: Principal) -> QuerySet[Screening]:
    if not principal.is_staff:
        return Screening.objects.none()
    return Screening.objects.filter(clinic=principal.clinic).select_related("patient")


def protocols_for(principal: Principal) -> QuerySet[Protocol]:
    if not principal.is_staff:
        return Protocol.objects.none()
    return protocol_library(clinic=principal.clinic)


def plans_for(principal: Principal) -> QuerySet[Plan]:
    return _scope(Plan.objects.select_related("patient"), principal)


def sessions_for(principal: Principal) -> QuerySet[SessionLog]:
    return _scope(SessionLog.objects.select_related("patient", "plan"), principal)


def decisions_for(principal: Principal) -> QuerySet[ProgressionDecision]:
    return _scope(
        ProgressionDecision.objects.select_related("plan__patient"), principal, "plan__patient"
    )


def outcomes_for(principal: Principal) -> QuerySet[OutcomeScore]:
    return _scope(OutcomeScore.objects.select_related("patient"), principal)


def clinical_notes_for(principal: Principal) -> QuerySet[ClinicalNote]:
    """The clinic's working notes: staff only. A patient does not read them through any door
    (as the clinician's version of a report is not theirs)."""
    if not principal.is_staff:
        return ClinicalNote.objects.none()
    return ClinicalNote.objects.filter(patient__clinic=principal.clinic).select_related(
        "patient", "author"
    )


def reminders_for(principal: Principal) -> QuerySet[Reminder]:
    return _scope(Reminder.objects.select_related("patient"), principal)


def reports_for(principal: Principal) -> QuerySet[Report]:
    """Staff see every report of their clinic; a patient only the plain-language versions of
    their own (the clinician's version is not theirs to read, whichever door they use)."""
    reports = _scope(Report.objects.select_related("patient"), principal)
    if not principal.is_staff:
        reports = reports.filter(audience=Report.Audience.PATIENT)
    return reports


def audit_events_for(principal: Principal) -> QuerySet[AuditEvent]:
    if not principal.is_clinic_admin:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(clinic=principal.clinic)


def api_key_for(raw_key: str) -> ApiKey | None:
    """The key a caller presented, found by its prefix and compared by hash in constant time;
    None for a malformed or unknown key (revocation and expiry are the caller's to check)."""
    parts = raw_key.split("_", 2)  # the secret part may itself contain "_"
    if len(parts) != 3 or not parts[1]:
        return None
    api_key = ApiKey.objects.select_related("clinic").filter(prefix=parts[1]).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, api_key_hash(raw_key)):
        return None
    return api_key


def reminder_ids_due(*, now: dt.datetime) -> list[int]:
    """Reminders waiting to go out whose moment has come."""
    return list(
        Reminder.objects.filter(status=Reminder.Status.PENDING, scheduled_for__lte=now)
        .order_by("scheduled_for", "pk")
        .values_list("pk", flat=True)
    )


ADHERENCE_FLAG_BELOW = 0.5  # [I] CLINICAL.md §4: under 50 % is flagged for review
SCREENING_EXPIRY_WARNING_DAYS = 14  # [I] how far ahead an expiring screening is mentioned


def digest_for(*, clinic: Clinic, today: dt.date) -> dict[str, list]:
    """What a clinician of the clinic should look at today. A fixed number of queries for any
    number of patients."""
    week_ago = today - dt.timedelta(days=6)
    pending = list(
        ProgressionDecision.objects.filter(
            plan__clinic=clinic, status=ProgressionDecision.Status.PENDING
        ).select_related("plan__patient")
    )
    active = list(
        Plan.objects.filter(clinic=clinic, status=Plan.Status.ACTIVE)
        .select_related("patient", "screening")
        .annotate(logged=Count("sessions", filter=Q(sessions__date__gte=week_ago)))
    )
    non_adherent = []
    expiring = []
    for plan in active:
        start = max(plan.start_date, week_ago)
        scheduled = sum(
            1
            for n in range((today - start).days + 1)
            if (start + dt.timedelta(days=n)).weekday() in plan.schedule_days
        )
        if scheduled >= 2 and plan.logged / scheduled < ADHERENCE_FLAG_BELOW:
            non_adherent.append((plan, plan.logged, scheduled))
        if plan.screening.valid_until <= today + dt.timedelta(days=SCREENING_EXPIRY_WARNING_DAYS):
            expiring.append(plan)
    unsettled = list(
        SessionLog.objects.filter(
            plan__clinic=clinic,
            plan__status=Plan.Status.ACTIVE,
            date__gte=week_ago,
            pain_next_morning__gt=F("pain_before"),
        ).select_related("patient")
    )
    # Referrals first: the same definition as Today's referral flags (emergency first).
    referrals = [
        open_referral(screening)
        for screening in referrals_unacted()
        .filter(clinic=clinic, patient__archived_at__isnull=True)
        .select_related("patient", "screened_by")
        .order_by(
            Case(When(referral=Screening.Referral.EMERGENCY, then=Value(0)), default=Value(1)),
            "-screened_at",
            "-id",
        )
    ]
    return {
        "referrals": referrals,
        "pending": pending,
        "non_adherent": non_adherent,
        "expiring": expiring,
        "unsettled": unsettled,
    }


def clinicians_at_local_hour(*, now: dt.datetime, hour: int) -> list:
    """Clinicians whose clinic's local time is within `hour`:00-59 now."""
    clinicians = Clinician.objects.select_related("clinic", "user").filter(user__is_active=True)
    return [
        c for c in clinicians if now.astimezone(zoneinfo.ZoneInfo(c.clinic.timezone)).hour == hour
    ]


# --- Clinician flows and portal invitations ---------------------------------------------------


def protocols_for_condition(principal: Principal, *, condition: str) -> QuerySet[Protocol]:
    """The protocols a clinician may assign for a condition: built-ins first, then the clinic's
    own, each with its levels."""
    return (
        protocols_for(principal)
        .filter(condition=condition)
        .order_by(F("clinic").asc(nulls_first=True), "name", "id")
    )


def invite_token_hash(token: str) -> str:
    """The same SHA-256 as API keys: the token is long and random, so a plain hash suffices."""
    return api_key_hash(token)


# A token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
INVITE_TOKEN_MAX_LENGTH = 100


def portal_invite_for_token(*, token: str) -> PortalInvite | None:
    """The invitation a link carries, found by its token's hash; None for an unknown token."""
    if not token or len(token) > INVITE_TOKEN_MAX_LENGTH:
        return None
    return (
        PortalInvite.objects.select_related("patient__clinic")
        .filter(token_hash=invite_token_hash(token))
        .first()
    )


def portal_invite_latest(*, patient: Patient) -> PortalInvite | None:
    """The patient's most recent invitation, whatever its state."""
    return PortalInvite.objects.filter(patient=patient).order_by("-created_at", "-id").first()


def portal_username_for(*, email: str) -> str:
    """The username a patient's new portal account gets: the e-mail address in lower case when
    no account uses it as a username yet, otherwise the address with a number added."""
    base = email.strip().lower()[:140] or "patient"
    names = User.objects.filter(username__istartswith=base).values_list("username", flat=True)
    taken = {name.lower() for name in names}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# --- Dashboard: library and team -------------------------------------------------------------


def protocol_list_for_dashboard(principal: Principal) -> QuerySet[Protocol]:
    """The library page: each protocol with its number of levels and what it was copied from,
    in one query whatever the library's size."""
    return (
        protocols_for(principal)
        .prefetch_related(None)
        .select_related("based_on")
        .annotate(level_count=Count("levels"))
        .order_by("condition", F("clinic").asc(nulls_first=True), "name", "id")
    )


@dataclass(frozen=True)
class ProtocolDetail:
    protocol: Protocol
    levels: list  # ProtocolLevel rows, in order
    safety: tuple[clinical_protocols.SafetyInstruction, ...]
    progression: clinical_progression.ProgressionSettings  # effective: defaults + overrides
    progression_defaults: clinical_progression.ProgressionSettings
    measures: list[tuple[str, str]]  # (code, name)
    editable: bool


def protocol_detail_for(principal: Principal, *, protocol_id: int) -> ProtocolDetail:
    """A protocol of the principal's library with everything its page shows; Protocol.DoesNotExist
    for another clinic's copy."""
    protocol = protocols_for(principal).select_related("based_on").get(pk=protocol_id)
    levels = list(protocol.levels.all())
    # The instructions of every setting the protocol uses, once each, in their usual order.
    wanted = {s.code for row in levels for s in clinical_protocols.safety_for(row.to_level())}
    safety = tuple(s for s in clinical_protocols.SAFETY_INSTRUCTIONS if s.code in wanted)
    measures = [
        (
            code,
            clinical_outcomes.MEASURES[code].name
            if code in clinical_outcomes.MEASURES
            else code.upper(),
        )
        for code in protocol.outcome_measures
    ]
    return ProtocolDetail(
        protocol=protocol,
        levels=levels,
        safety=safety,
        progression=clinical_progression.ProgressionSettings.from_dict(
            protocol.progression_settings
        ),
        progression_defaults=clinical_progression.ProgressionSettings(),
        measures=measures,
        editable=protocol_is_editable_by(principal, protocol),
    )


def protocol_is_editable_by(principal: Principal, protocol: Protocol) -> bool:
    """Only a clinic's own copies can be edited, by that clinic's clinicians; built-ins never."""
    return principal.is_staff and protocol.clinic_id == principal.clinic.pk


def team_for(principal: Principal) -> QuerySet[Clinician]:
    """The clinic's clinicians with their accounts, for its administrators only."""
    if not principal.is_clinic_admin:
        return Clinician.objects.none()
    return (
        Clinician.objects.filter(clinic=principal.clinic)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )


def personal_token_for(raw_token: str) -> PersonalToken | None:
    """The personal token a caller presented, found by its hash (a hash lookup reveals nothing
    about other tokens), with its account."""
    return (
        PersonalToken.objects.select_related("user")
        .filter(key_hash=api_key_hash(raw_token))
        .first()
    )


def api_keys_for(principal: Principal) -> QuerySet[ApiKey]:
    """The clinic's API keys (never their secrets), for its administrators only: usable ones
    first, then revoked ones."""
    if not principal.is_clinic_admin:
        return ApiKey.objects.none()
    return (
        ApiKey.objects.filter(clinic=principal.clinic)
        .select_related("created_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "name", "pk")
    )


# --- Dashboard: patient page -----------------------------------------------------------------
# One screen, a fixed number of queries whatever the history: each section is one capped query,
# and level names, verdict texts and outcome changes are worked out from rows already loaded
# (never a query per row).

PATIENT_PAGE_PLANS = 20
PATIENT_PAGE_SESSIONS = 30  # the timeline
PATIENT_PAGE_CHART_WEEKS = 12  # the charts, as a report's default period
PATIENT_PAGE_SESSIONS_READ = 100  # 12 weeks of daily sessions, with room for a change of plan
PATIENT_PAGE_SCREENINGS = 10
PATIENT_PAGE_DECISIONS = 20
PATIENT_PAGE_OUTCOME_ROWS = 10  # shown per measure; all are read, as the first is the baseline
PATIENT_PAGE_REMINDERS = 20
PATIENT_PAGE_REPORTS = 10
PATIENT_PAGE_AUDIT_EVENTS = 50
PATIENT_PAGE_NOTES = 20

PATIENT_PAGE_ADVERSE_EVENTS = {
    "fall": "Fall",
    "near_fall": "Near fall",
    "dizziness": "Dizziness",
    "chest_pain": "Chest pain",
}
PATIENT_PAGE_SUBSCALES = {
    clinical_outcomes.TOTAL: "Total",
    "pain": "Pain",
    "symptoms": "Symptoms",
    "adl": "Daily living",
    "sport_rec": "Sport and recreation",
    "qol": "Quality of life",
}
PATIENT_PAGE_AUDIT_ACTIONS = {
    "patient.view": "Opened the patient page",
    "audit.read": "Read the record's audit trail",
    "invite.read": "Read the portal invitations",
    "calendar.read": "Read the calendar link's record",
    "patient.list": "Saw the patient in a list",
    "patient.read": "Read the patient's details",
    "patient.create": "Added the patient",
    "patient.update": "Changed the patient's details",
    "patient.archive": "Archived the patient",
    "screening.submit": "Screened the patient",
    "screening.invalidate": "Screening invalidated",
    "screening.read": "Read the screenings",
    "referral.acted": "Recorded a referral as acted on",
    "plan.assign": "Assigned a plan",
    "plan.read": "Read the plan",
    "plan.paused": "Paused the plan",
    "plan.resumed": "Resumed the plan",
    "plan.completed": "Completed the plan",
    "plan.discontinued": "Discontinued the plan",
    "plan.settings": "Changed the plan's settings",
    "plan.level": "Changed the level",
    "session.log": "Logged a session",
    "session.next_morning": "Added next-morning pain",
    "session.read": "Read the sessions",
    "progression.decision": "Progression decision recorded",
    "progression.approve": "Approved a decision",
    "progression.reject": "Rejected a decision",
    "decision.read": "Read the decisions",
    "outcome.record": "Recorded an outcome measure",
    "outcome.read": "Read the outcome measures",
    "note.add": "Wrote a clinical note",
    "note.read": "Read the clinical notes",
    "reminder.read": "Read the reminders",
    "report.request": "Requested a report",
    "report.render": "Report rendered",
    "report.read": "Downloaded a report",
    "report.list": "Saw the list of reports",
    "portal.today": "Opened Today in the portal",
    "portal.log_form": "Opened the session log in the portal",
    "portal.session_read": "Read a logged session in the portal",
    "portal.reminders": "Opened reminder settings in the portal",
    "portal.invite": "Invited to the patient portal",
    "portal.invite_view": "Opened the portal invitation",
    "portal.invite_accept": "Accepted the portal invitation",
    "portal.invite_failed": "Portal invitation could not be sent",
    "portal.remember_device": "Signed in to the portal, kept signed in on that device",
    "portal.login_email": "The portal sign-in address followed the record's",
    "portal.form_kept": "A portal form arrived after the sign-in ended; kept for the patient",
    "portal.form_kept_used": "A kept portal form was sent again after signing in",
    "portal.form_kept_discarded": "A kept portal form was removed unused",
    "outcome.draft_save": "Saved a page of a questionnaire",
    "calendar.create": "Made a calendar link",
    "calendar.revoke": "Stopped the calendar link",
    "calendar.fetch": "Calendar app fetched the sessions",
    "reminder.reschedule": "Moved a planned reminder",
    "reminder.cancel": "Cancelled a planned reminder",
}


def session_points(logs) -> tuple:
    """Session logs as `rehab.charts.SessionPoint`s, oldest first: the one conversion that the
    pages' charts and the PDF report's charts share."""
    from rehab.charts import SessionPoint  # reportlab is loaded only where a chart is drawn

    return tuple(
        SessionPoint(
            day=log.date,
            minutes=log.minutes_done,
            speed_kmh=None if log.speed_kmh is None else float(log.speed_kmh),
            pain_before=log.pain_before,
            pain_worst=log.pain_worst,
            pain_after=log.pain_after,
            pain_next_morning=log.pain_next_morning,
            effort=log.effort,
        )
        for log in sorted(logs, key=lambda log: (log.date, log.pk or 0))
    )


def _page_level_name(plan: Plan | None, index: int) -> str:
    if plan is not None and 0 <= index < len(plan.levels):
        return plan.level_name(index) or f"Level {index + 1}"
    return f"Level {index + 1}"


def _page_short_level_name(plan: Plan, index: int) -> str:
    name = _page_level_name(plan, index)
    prefix = f"Level {index + 1}:"
    if not name.startswith(prefix):
        return name
    return name[len(prefix) :].strip() or name


def person_name(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


@dataclass(frozen=True)
class PatientPagePlan:
    plan: Plan
    level_number: int  # 1-based, for people
    level_count: int
    level_name: str  # without a "Level n:" the name may start with, as the number is shown
    prescription: CappedLevel  # the current level within the plan's constraints
    prescription_words: str
    constraints: tuple[str, ...]


@dataclass(frozen=True)
class PatientPageSession:
    log: SessionLog
    level_name: str
    adverse_events: tuple[str, ...]
    logged_by: str = ""  # the person who recorded it (the supervising clinician, if supervised)


@dataclass(frozen=True)
class PatientPageNote:
    note: ClinicalNote
    author: str


@dataclass(frozen=True)
class PatientPageScreening:
    screening: Screening
    explanations: tuple[str, ...]
    constraints: tuple[str, ...]
    valid_today: bool
    screened_by: str
    referral_action: ReferralAction | None = None  # its urgent referral recorded as acted on
    acted_by: str = ""


@dataclass(frozen=True)
class OpenReferral:
    """An urgent or emergency referral no clinician has recorded as acted on: a banner on the
    patient page, a line in the digest."""

    screening: Screening
    reasons: tuple[str, ...]  # in words: the answers that caused the referral
    screened_by: str

    @property
    def is_emergency(self) -> bool:
        return self.screening.referral == Screening.Referral.EMERGENCY


@dataclass(frozen=True)
class PatientPageDecision:
    decision: ProgressionDecision
    plan_name: str
    from_level: str
    to_level: str
    reasons: tuple[str, ...]
    decided_by: str

    @property
    def is_pending(self) -> bool:
        return self.decision.status == ProgressionDecision.Status.PENDING


@dataclass(frozen=True)
class PatientPageChange:
    subscale: str  # in words
    change: clinical_outcomes.Change


@dataclass(frozen=True)
class PatientPageOutcome:
    measure: str
    name: str
    subscales: tuple[str, ...]  # in words, the columns of `rows`
    rows: tuple[tuple[dt.date, tuple[float | None, ...]], ...]  # newest first, capped
    count: int  # every score of the measure, shown or not
    changes: tuple[PatientPageChange, ...]  # latest against the first (the baseline)


@dataclass(frozen=True)
class PatientPageAudit:
    event: AuditEvent
    words: str


@dataclass(frozen=True)
class PatientPage:
    patient: Patient
    today: dt.date
    age: int | None
    plan: PatientPagePlan | None  # the open plan
    safety_pause: PatientPageDecision | None  # the open plan is paused by a safety rule
    safety_reasons: tuple[str, ...]  # that decision's pause reasons (not its holds)
    referrals: tuple[OpenReferral, ...]  # not acted on yet, emergency first
    pending: tuple[PatientPageDecision, ...]  # awaiting approval, on the open plan
    sessions: tuple[PatientPageSession, ...]  # newest first
    chart_since: dt.date
    chart_points: tuple  # rehab.charts.SessionPoint from chart_since, oldest first
    screenings: tuple[PatientPageScreening, ...]
    screening_valid: bool  # one of them is valid today (a plan can be assigned or resumed)
    decisions: tuple[PatientPageDecision, ...]
    outcomes: tuple[PatientPageOutcome, ...]
    reminders: tuple[Reminder, ...]
    reports: tuple[Report, ...]
    audit_events: tuple[PatientPageAudit, ...]
    notes: tuple[PatientPageNote, ...] = ()  # clinical notes, newest first, capped


def _page_age(born: dt.date | None, today: dt.date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _page_plan(plan: Plan) -> PatientPagePlan:
    prescription = plan.current_prescription()
    return PatientPagePlan(
        plan=plan,
        level_number=plan.current_level + 1,
        level_count=len(plan.levels),
        level_name=_page_short_level_name(plan, plan.current_level),
        prescription=prescription,
        prescription_words=prescription.level.describe(),
        constraints=plan.constraints_obj.describe(),
    )


def _page_decision(decision: ProgressionDecision, plans: dict[int, Plan]) -> PatientPageDecision:
    plan = plans.get(decision.plan_id)
    return PatientPageDecision(
        decision=decision,
        plan_name=plan.protocol_name if plan is not None else "",
        from_level=_page_level_name(plan, decision.from_level),
        to_level=_page_level_name(plan, decision.to_level),
        reasons=tuple(wording.reason_text(reason) for reason in decision.reasons),
        decided_by=person_name(decision.decided_by),
    )


def _page_screening(screening: Screening, today: dt.date) -> PatientPageScreening:
    verdict = clinical_screening.Verdict.from_dict(screening.verdict_dict())
    # Read with the screening (select_related): None when no action was recorded.
    action = getattr(screening, "referral_action", None)
    return PatientPageScreening(
        screening=screening,
        explanations=tuple(text for _, text in verdict.explanations()),
        constraints=Constraints.from_dict(screening.constraints).describe(),
        valid_today=screening.is_valid_on(today),
        screened_by=person_name(screening.screened_by),
        referral_action=action,
        acted_by=person_name(action.acted_by) if action is not None else "",
    )


def open_referral(screening: Screening) -> OpenReferral:
    verdict = clinical_screening.Verdict.from_dict(screening.verdict_dict())
    explanations = verdict.explanations()
    referring = tuple(
        text for code, text in explanations if code in clinical_screening.URGENT_REFERRAL_CODES
    )
    return OpenReferral(
        screening=screening,
        # A verdict stored before URGENT_REFERRAL_CODES named its codes shows all its reasons.
        reasons=referring or tuple(text for _, text in explanations),
        screened_by=person_name(screening.screened_by),
    )


def referrals_unacted_for(principal: Principal, *, patient: Patient) -> tuple[OpenReferral, ...]:
    """The patient's urgent and emergency referrals not recorded as acted on, emergency first,
    then the latest: one query."""
    if not principal.is_staff or patient.clinic_id != principal.clinic.pk:
        return ()
    return tuple(
        open_referral(screening)
        for screening in referrals_unacted()
        .filter(patient=patient)
        .select_related("screened_by")
        .order_by(
            Case(When(referral=Screening.Referral.EMERGENCY, then=Value(0)), default=Value(1)),
            "-screened_at",
            "-id",
        )
    )


def _page_outcomes(scores: list[OutcomeScore]) -> tuple[PatientPageOutcome, ...]:
    by_measure: dict[str, list[OutcomeScore]] = {}
    for score in scores:  # ordered by measure, then date: the first of each is the baseline
        by_measure.setdefault(score.measure, []).append(score)
    sections = []
    for code, rows in by_measure.items():
        measure = clinical_outcomes.MEASURES.get(code)
        subscales = measure.subscales if measure is not None else tuple(rows[0].scores)
        changes: tuple[PatientPageChange, ...] = ()
        if measure is not None and len(rows) >= 2:
            # The comparison outcome_changes makes, on rows already read.
            changes = tuple(
                PatientPageChange(PATIENT_PAGE_SUBSCALES.get(c.subscale, c.subscale), c)
                for c in clinical_outcomes.change(code, rows[0].scores, rows[-1].scores)
            )
        sections.append(
            PatientPageOutcome(
                measure=code,
                name=measure.name if measure is not None else code.upper(),
                subscales=tuple(PATIENT_PAGE_SUBSCALES.get(s, s) for s in subscales),
                rows=tuple(
                    (row.taken_on, tuple(row.scores.get(s) for s in subscales))
                    for row in reversed(rows[-PATIENT_PAGE_OUTCOME_ROWS:])
                ),
                count=len(rows),
                changes=changes,
            )
        )
    return tuple(sections)


def _page_is_safety_pause(plan: Plan, latest: ProgressionDecision | None) -> bool:
    # A rule's pause stores its first reason as the plan's status reason (services
    # _evaluate_locked); a clinician's own pause records no decision. A paused plan takes no
    # new decisions, so the latest one is the pause, if a rule paused it.
    return (
        plan.status == Plan.Status.PAUSED
        and latest is not None
        and latest.outcome == ProgressionDecision.Outcome.PAUSE
        and latest.status == ProgressionDecision.Status.APPLIED
        and bool(latest.reasons)
        and plan.status_reason == (latest.reasons[0].get("text") or "")[:300]
    )


def patient_page(
    *, principal: Principal, patient: Patient, today: dt.date | None = None
) -> PatientPage:
    """Everything the dashboard's patient page shows, one capped query per section.

    The patient must come from `patients_for(principal)`; a patient of another clinic, or a
    principal who is not staff, is refused here as well (Patient.DoesNotExist).
    """
    if not principal.is_staff or patient.clinic_id != principal.clinic.pk:
        raise Patient.DoesNotExist
    today = today or patient.local_today()
    plans = list(
        Plan.objects.filter(patient=patient).order_by("-created_at", "-id")[:PATIENT_PAGE_PLANS]
    )
    plans_by_id = {plan.pk: plan for plan in plans}
    open_plan = next((plan for plan in plans if plan.is_open), None)

    logs = list(
        SessionLog.objects.filter(patient=patient)
        .select_related("logged_by")
        .order_by("-date", "-id")[:PATIENT_PAGE_SESSIONS_READ]
    )
    chart_since = today - dt.timedelta(weeks=PATIENT_PAGE_CHART_WEEKS)
    sessions = tuple(
        PatientPageSession(
            log=log,
            level_name=_page_level_name(plans_by_id.get(log.plan_id), log.level_index),
            adverse_events=tuple(PATIENT_PAGE_ADVERSE_EVENTS[name] for name in log.adverse_events),
            logged_by=person_name(log.logged_by),
        )
        for log in logs[:PATIENT_PAGE_SESSIONS]
    )

    decisions = tuple(
        _page_decision(decision, plans_by_id)
        for decision in ProgressionDecision.objects.filter(plan__patient=patient)
        .select_related("decided_by")
        .order_by("-created_at", "-id")[:PATIENT_PAGE_DECISIONS]
    )
    safety_pause = None
    pending: tuple[PatientPageDecision, ...] = ()
    if open_plan is not None:
        of_plan = [row for row in decisions if row.decision.plan_id == open_plan.pk]
        latest = of_plan[0] if of_plan else None
        if _page_is_safety_pause(open_plan, latest.decision if latest else None):
            safety_pause = latest
        pending = tuple(row for row in of_plan if row.is_pending)

    screenings = tuple(
        _page_screening(screening, today)
        for screening in Screening.objects.filter(patient=patient)
        .select_related("screened_by", "referral_action__acted_by")
        .order_by("-screened_at", "-id")[:PATIENT_PAGE_SCREENINGS]
    )
    outcomes = _page_outcomes(
        list(
            OutcomeScore.objects.filter(patient=patient)
            .only("id", "patient_id", "measure", "taken_on", "scores")
            .order_by("measure", "taken_on", "id")
        )
    )
    reminders = tuple(
        Reminder.objects.filter(patient=patient).order_by("-due_date", "-id")[
            :PATIENT_PAGE_REMINDERS
        ]
    )
    reports = tuple(
        Report.objects.filter(patient=patient)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:PATIENT_PAGE_REPORTS]
    )
    notes = tuple(
        PatientPageNote(note, person_name(note.author))
        for note in ClinicalNote.objects.filter(patient=patient)
        .select_related("author")
        .order_by("-noted_on", "-created_at", "-id")[:PATIENT_PAGE_NOTES]
    )
    audit_events = tuple(
        PatientPageAudit(event, PATIENT_PAGE_AUDIT_ACTIONS.get(event.action, event.action))
        for event in AuditEvent.objects.filter(patient=patient, clinic=principal.clinic).order_by(
            "-at", "-id"
        )[:PATIENT_PAGE_AUDIT_EVENTS]
    )
    return PatientPage(
        patient=patient,
        today=today,
        age=_page_age(patient.date_of_birth, today),
        plan=_page_plan(open_plan) if open_plan is not None else None,
        safety_pause=safety_pause,
        safety_reasons=tuple(
            wording.reason_text(reason)
            for reason in (safety_pause.decision.reasons if safety_pause else ())
            if reason.get("outcome") == ProgressionDecision.Outcome.PAUSE
        ),
        referrals=referrals_unacted_for(principal, patient=patient),
        pending=pending,
        sessions=sessions,
        chart_since=chart_since,
        chart_points=session_points(log for log in logs if chart_since <= log.date <= today),
        screenings=screenings,
        screening_valid=any(row.valid_today for row in screenings),
        decisions=decisions,
        outcomes=outcomes,
        reminders=reminders,
        reports=reports,
        audit_events=audit_events,
        notes=notes,
    )


# --- Dashboard: Today ------------------------------------------------------------------------
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
DASHBOARD_ATTENTION = "attention"  # the filter "any flag at all"
DASHBOARD_STATUSES = {
    "active": "Active plan",
    "paused": "Paused plan",
    "ended": "Plan completed or discontinued",
    "none": "No plan yet",
    "archived": "Archived patients",
}
_SAFETY_WORDS = {"fall": "fall", "chest_pain": "chest pain", "severe_pain": "severe pain"}


class JSONArrayLength(Func):
    """The length of a JSON array column (SQLite; PostgreSQL spells it for jsonb)."""

    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra_context)


class JSONArrayInt(Func):
    """The integer at `position` of a JSON array column; NULL past its end."""

    template = "JSON_EXTRACT(%(expressions)s, '$[%(position)d]')"
    output_field = IntegerField()

    def __init__(self, expression, *, position: int):
        super().__init__(expression, position=int(position))

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "((%(expressions)s ->> %(position)d)::integer)"
        return self.as_sql(compiler, connection, template=template, **extra_context)


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


class DaysBetween(Func):
    """Whole days from the second date to the first (SQLite; PostgreSQL subtracts dates)."""

    template = "CAST(JULIANDAY(%(expressions)s) AS INTEGER)"
    arg_joiner = ") - JULIANDAY("
    arity = 2
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context
        )


def scheduled_days(schedule_days: list[int], start: dt.date, end: dt.date) -> int:
    """How many days from start to end (both included) are plan days. The Python twin of
    scheduled_last_7_sql, for the windows that are only shown (28 days)."""
    if end < start:
        return 0
    weeks, rest = divmod((end - start).days + 1, 7)
    return weeks * len(set(schedule_days)) + sum(
        1 for n in range(rest) if (start + dt.timedelta(days=n)).weekday() in schedule_days
    )


def scheduled_last_7_sql(today: dt.date) -> Case:
    """Plan days in the 7 days to today since the plan started, in SQL: the low-adherence flag
    sorts and filters the list. A plan older than the window has each of its weekdays exactly
    once in it, so the count is the length of schedule_days. For a younger plan, weekday w falls
    in the window when its last date, (today's weekday - w) mod 7 days ago, is not before the
    start. Compared item by item, which SQLite and PostgreSQL spell alike (they differ on JSON
    containment)."""
    schedule, start = F("dash_plan__schedule_days"), F("dash_plan__start_date")
    days_running = DaysBetween(Value(today, output_field=DateField()), start)
    young = Value(0)
    for position in range(7):  # schedule_days holds 1 to 7 distinct weekdays
        days_ago = (Value(today.weekday() + 7) - JSONArrayInt(schedule, position=position)) % 7
        young = young + Case(When(GreaterThanOrEqual(days_running, days_ago), then=1), default=0)
    return Case(
        When(
            dash_plan__start_date__lte=today - dt.timedelta(days=6), then=JSONArrayLength(schedule)
        ),
        default=young,
        output_field=IntegerField(),
    )


def with_open_plan(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """The patients joined to their open plan, if any (plan_id, plan_status). A patient has at
    most one open plan (a unique constraint), so the join never repeats a patient."""
    return patients.alias(
        dash_plan=FilteredRelation("plans", condition=Q(plans__status__in=Plan.OPEN_STATUSES))
    ).alias(plan_id=F("dash_plan__id"), plan_status=F("dash_plan__status"))


def logged_last_7_sql(today: dt.date) -> Subquery:
    """Sessions of the open plan logged in the 7 days to today."""
    return Subquery(
        SessionLog.objects.filter(
            plan_id=OuterRef("plan_id"), date__gte=today - dt.timedelta(days=6), date__lte=today
        )
        .order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n")
    )


URGENT_REFERRALS = (Screening.Referral.EMERGENCY, Screening.Referral.URGENT)


def referrals_unacted() -> QuerySet[Screening]:
    """Screenings whose urgent or emergency referral no clinician has recorded as acted on
    (ReferralAction): the one definition the Today flags, the patient page's banner and the
    digest share. Unscoped: each caller narrows it to a patient or a clinic."""
    return Screening.objects.filter(referral__in=URGENT_REFERRALS, referral_action__isnull=True)


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
        logged_7=logged_last_7_sql(today),
        scheduled_7=scheduled_last_7_sql(today),
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
        # The digest's rule too: under ADHERENCE_FLAG_BELOW of at least 2 plan days.
        "non_adherent": Q(plan_status=Plan.Status.ACTIVE)
        & Q(scheduled_7__gte=2)
        & Q(
            logged_7__lt=ExpressionWrapper(
                F("scheduled_7") * Value(ADHERENCE_FLAG_BELOW), output_field=FloatField()
            )
        ),
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


def _search(patients: QuerySet[Patient], search: str) -> QuerySet[Patient]:
    """Every word must match the first or last name, the clinic's record number or e-mail."""
    for term in search.split():
        patients = patients.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(external_id__icontains=term)
            | Q(email__icontains=term)
        )
    return patients


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
    first_name, id), no flag's rows. Pass a page of them to dashboard_rows for what it shows.

    flag: a DASHBOARD_FLAGS code, or DASHBOARD_ATTENTION for any flag; status: a key of
    DASHBOARD_STATUSES ("archived" lists only archived patients); condition: a condition code.
    """
    if not principal.is_staff:
        return Patient.objects.none()
    patients = Patient.objects.filter(clinic=principal.clinic)
    if status == "archived":
        patients = patients.filter(archived_at__isnull=False)
    elif not include_archived:
        patients = patients.filter(archived_at__isnull=True)
    if condition:
        patients = patients.filter(condition=condition)
    patients = _search(patients, search)
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
        .annotate(n=Count("pk"))
        .values_list("dashboard_need", "n")
    )
    for need, n in by_need:
        counts["total"] += n
        if need:
            counts["attention"] += n
        for flag in dashboard_flags_of(need):
            counts[flag.code] += n
    return counts


@dataclass(frozen=True)
class Adherence:
    logged: int
    scheduled: int

    @property
    def percent(self) -> int | None:
        if not self.scheduled:
            return None
        return round(100 * self.logged / self.scheduled)


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
            logged_7=logged_last_7_sql(today),
            scheduled_7=scheduled_last_7_sql(today),
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
            "logged_7",
            "scheduled_7",
            "last_session",
            "ended_status",
        )
    }
    plan_ids = [d["plan_id_"] for d in details.values() if d["plan_id_"] is not None]
    pains: dict[int, list[int]] = {}
    logged_28: dict[int, int] = {}
    for plan_id, pain_after in (
        SessionLog.objects.filter(plan_id__in=plan_ids, date__gte=start_28, date__lte=today)
        .order_by("plan_id", "-date")
        .values_list("plan_id", "pain_after")
    ):
        pains.setdefault(plan_id, []).append(pain_after)
        logged_28[plan_id] = logged_28.get(plan_id, 0) + 1
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
            row.adherence_7 = Adherence(d["logged_7"], d["scheduled_7"])
            row.adherence_28 = Adherence(
                logged_28.get(plan_id, 0),
                scheduled_days(d["plan_schedule"], max(d["plan_start"], start_28), today),
            )
            row.pain_trend = pain_trend_of(pains.get(plan_id, []))
        for flag in dashboard_flags_of(patient.dashboard_need):
            text = flag.label
            if flag.code == "safety_pause":
                words = [
                    _SAFETY_WORDS.get(c, c.replace("_", " ")) for c in pause_codes.get(plan_id, [])
                ]
                text = "Paused: " + ", ".join(words) if words else flag.label
            elif flag.code == "pending_decision" and plan_id in pending:
                decision = pending[plan_id]
                text = (
                    f"Awaiting approval: {decision.get_outcome_display().lower()} to level "
                    f"{decision.to_level + 1}"
                )
            elif flag.code == "non_adherent":
                text = f"Low adherence {row.adherence_7.logged}/{row.adherence_7.scheduled}"
            elif flag.code == "pain_unsettled":
                text = "Next-morning pain up"
            row.flags.append(RowFlag(flag.code, text, flag.tone))
        rows.append(row)
    return rows


# --- Portal: today and log -------------------------------------------------------------------

# [I] How long after a session the portal still asks for its next-morning pain: a pain score
# remembered three days later is not worth the prompt.
NEXT_MORNING_PROMPT_DAYS = 2

# Seconds between a session's save and the decision its evaluation recorded: both are written in
# one transaction, so in practice milliseconds; the margin only absorbs a slow commit.
_SESSION_DECISION_WINDOW = dt.timedelta(minutes=1)


def portal_plan(principal: Principal) -> Plan | None:
    """The plan a patient's Today page is about: the open one, else the latest that ended."""
    return (
        plans_for(principal)
        .annotate(
            open_rank=Case(
                When(status__in=Plan.OPEN_STATUSES, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("open_rank", "-created_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class PortalRecentSessions:
    logged_today: SessionLog | None
    awaiting_next_morning: SessionLog | None  # the latest recent session without it


def portal_recent_sessions(
    principal: Principal, *, plan: Plan, today: dt.date
) -> PortalRecentSessions:
    """Today's log of the plan, and the latest session of the last few days still waiting for
    its next-morning pain (the service accepts it from the day after the session on). One
    query."""
    since = today - dt.timedelta(days=NEXT_MORNING_PROMPT_DAYS)
    sessions = list(
        sessions_for(principal)
        .filter(plan=plan, date__gte=since, date__lte=today)
        .order_by("-date", "-id")
    )
    logged_today = next((s for s in sessions if s.date == today), None)
    awaiting = next((s for s in sessions if s.date < today and s.pain_next_morning is None), None)
    return PortalRecentSessions(logged_today=logged_today, awaiting_next_morning=awaiting)


def portal_session(principal: Principal, *, session_id: int) -> SessionLog:
    """One of the patient's own sessions with its plan; SessionLog.DoesNotExist otherwise."""
    return sessions_for(principal).get(pk=session_id)


def portal_session_decision(
    principal: Principal, *, session: SessionLog
) -> ProgressionDecision | None:
    """The decision that logging `session` recorded, if it recorded a new one (an unchanged
    result is not stored again, and then there is nothing new to tell)."""
    return (
        decisions_for(principal)
        .filter(
            plan_id=session.plan_id,
            trigger=ProgressionDecision.Trigger.SESSION,
            created_at__gte=session.created_at,
            created_at__lte=session.created_at + _SESSION_DECISION_WINDOW,
        )
        .order_by("created_at", "id")
        .first()
    )


# --- Portal: progress ------------------------------------------------------------------------
# The patient's own progress page, questionnaires and reports. Each section reads one table in
# one query scoped by the principal, so the page costs the same for 3 sessions or 300; the
# calendar, the history and what is due are worked out from rows already read.

PORTAL_CHART_WEEKS = 12  # the charts: a report's default period
PORTAL_CALENDAR_WEEKS = 4  # the adherence calendar: this week and the three before it
# [I] docs/clinical.md §5: outcomes are retaken every 2 weeks where the protocol sets no retest
# week of its own (Protocol.retest_weeks is the setting; this is only its fallback).
OUTCOME_RETEST_DEFAULT_WEEKS = 2
# Asked of every patient besides the protocol's own measures (the issue: "KOOS or RMDQ, NPRS,
# PSFS"): pain in one number, and the activities that matter to this patient.
PORTAL_OUTCOMES_ALWAYS = ("nprs", "psfs")
PORTAL_REPORTS_SHOWN = 20

_PLAN_STATUS_ACTIONS = {"plan.paused": "pause", "plan.resumed": "resume"}


def portal_progress_sessions(
    principal: Principal, *, plan: Plan, since: dt.date, today: dt.date
) -> list[SessionLog]:
    """The plan's sessions from `since` to today, oldest first, with only what the charts and
    the calendar use. One query."""
    return list(
        sessions_for(principal)
        .select_related(None)
        .filter(plan=plan, date__gte=since, date__lte=today)
        .only(
            "id",
            "date",
            "minutes_done",
            "speed_kmh",
            "pain_before",
            "pain_worst",
            "pain_after",
            # session_points reads these too: deferred, each would cost a query per session.
            "pain_next_morning",
            "effort",
        )
        .order_by("date", "id")
    )


@dataclass(frozen=True)
class PlanEvent:
    """One change in the life of a plan, as the patient's level history tells it."""

    day: dt.date
    kind: str  # "start" | "advance" | "regress" | "pause" | "resume" | "complete" | "discontinue"
    from_level: int | None = None  # 0-based level indexes of the plan
    to_level: int | None = None
    reasons: tuple[dict, ...] = ()  # the decision's stored reasons: {"code", "text", "outcome"}
    by_clinician: bool = False  # a clinician set the level by hand


def portal_plan_history(principal: Principal, *, plan: Plan) -> tuple[PlanEvent, ...]:
    """The plan's start, every level change and pause that took effect (applied, or approved by
    the clinician), the clinician's own pauses and resumes (recorded only in the audit trail),
    and its end, oldest first. Two queries."""
    Outcome, Status = ProgressionDecision.Outcome, ProgressionDecision.Status
    events = [PlanEvent(day=plan.start_date, kind="start", to_level=0)]
    decisions = (
        decisions_for(principal)
        .select_related(None)
        .filter(
            plan=plan,
            status__in=(Status.APPLIED, Status.APPROVED),
            outcome__in=(Outcome.ADVANCE, Outcome.REGRESS, Outcome.PAUSE),
            applied_on__isnull=False,
        )
        .order_by("applied_on", "created_at", "id")
        .values_list("applied_on", "outcome", "from_level", "to_level", "reasons", "trigger")
    )
    for day, outcome, from_level, to_level, reasons, trigger in decisions:
        events.append(
            PlanEvent(
                day=day,
                kind=outcome,
                from_level=from_level,
                to_level=to_level,
                reasons=tuple(r for r in reasons or () if isinstance(r, dict)),
                by_clinician=trigger == ProgressionDecision.Trigger.MANUAL,
            )
        )
    audit = AuditEvent.objects.filter(
        object_type="plan", object_id=str(plan.pk), action__in=tuple(_PLAN_STATUS_ACTIONS)
    )
    if principal.is_staff:
        audit = audit.filter(clinic=principal.clinic, patient__clinic=principal.clinic)
    else:
        audit = audit.filter(patient=principal.patient)
    for at, action in audit.order_by("at", "id").values_list("at", "action"):
        events.append(
            PlanEvent(day=plan.patient.local_today(at), kind=_PLAN_STATUS_ACTIONS[action])
        )
    if plan.ended_at is not None and plan.status in (
        Plan.Status.COMPLETED,
        Plan.Status.DISCONTINUED,
    ):
        kind = "complete" if plan.status == Plan.Status.COMPLETED else "discontinue"
        events.append(PlanEvent(day=plan.patient.local_today(plan.ended_at), kind=kind))
    # Stable: within a day the start comes first, then the rows in the order they were written.
    return tuple(sorted(events, key=lambda event: event.day))


def plan_pauses(events: tuple[PlanEvent, ...]) -> tuple[tuple[dt.date, dt.date | None], ...]:
    """The spans a plan was paused, from its history: (first paused day, day it resumed), the
    end None while it is still paused."""
    spans: list[tuple[dt.date, dt.date | None]] = []
    paused_from: dt.date | None = None
    for event in events:
        if event.kind == "pause" and paused_from is None:
            paused_from = event.day
        elif event.kind == "resume" and paused_from is not None:
            spans.append((paused_from, event.day))
            paused_from = None
    if paused_from is not None:
        spans.append((paused_from, None))
    return tuple(spans)


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date
    # "done" (a session was logged), "missed" (a planned day gone by without one), "planned"
    # (today or later, not walked yet), "rest" (not a planned day), "paused" (the plan was
    # paused), "outside" (before the plan started or after it ended)
    state: str
    is_today: bool
    is_future: bool


@dataclass(frozen=True)
class AdherenceCalendar:
    weeks: tuple[tuple[CalendarDay, ...], ...]  # Monday first
    first: dt.date
    last: dt.date
    done: int  # sessions walked from `first` to today
    planned: int  # planned days from `first` to today (today's only once walked)


def portal_adherence_calendar(
    *,
    plan: Plan,
    session_days: set[dt.date],
    pauses: tuple[tuple[dt.date, dt.date | None], ...],
    today: dt.date,
    weeks: int = PORTAL_CALENDAR_WEEKS,
) -> AdherenceCalendar:
    """This week and the weeks before it, day by day: walked, missed, planned or rest. Today is
    never missed: there is still time to walk."""
    first = today - dt.timedelta(days=today.weekday(), weeks=weeks - 1)
    ended = plan.patient.local_today(plan.ended_at) if plan.ended_at is not None else None
    days, done, planned = [], 0, 0
    for n in range(7 * weeks):
        day = first + dt.timedelta(days=n)
        scheduled = day.weekday() in plan.schedule_days
        in_plan = plan.start_date <= day and (ended is None or day <= ended)
        paused = any(start <= day and (end is None or day < end) for start, end in pauses)
        walked = day in session_days and day <= today
        if walked:
            state = "done"
        elif not in_plan:
            state = "outside"
        elif paused:
            state = "paused"
        elif not scheduled:
            state = "rest"
        elif day < today:
            state = "missed"
        else:
            state = "planned"
        if day <= today:
            done += walked
            planned += in_plan and not paused and scheduled and (day < today or walked)
        days.append(CalendarDay(day=day, state=state, is_today=day == today, is_future=day > today))
    return AdherenceCalendar(
        weeks=tuple(tuple(days[i : i + 7]) for i in range(0, len(days), 7)),
        first=first,
        last=days[-1].day,
        done=done,
        planned=planned,
    )


def questionnaire_draft_fresh_since(now: dt.datetime | None = None) -> dt.datetime:
    """Drafts last saved before this are stale: a questionnaire asks about the last week, so
    answers older than QUESTIONNAIRE_DRAFT_DAYS are not offered again or added to."""
    now = now or timezone.now()
    return now - dt.timedelta(days=django_settings.QUESTIONNAIRE_DRAFT_DAYS)


def portal_questionnaire_drafts(principal: Principal) -> dict[str, QuestionnaireDraft]:
    """The signed-in patient's fresh drafts by measure, for My progress. One query."""
    drafts = QuestionnaireDraft.objects.filter(
        patient=principal.patient, updated_at__gte=questionnaire_draft_fresh_since()
    ).only("measure", "page")
    return {draft.measure: draft for draft in drafts}


def portal_questionnaire_draft(principal: Principal, *, measure: str) -> QuestionnaireDraft | None:
    """The signed-in patient's answers so far to a questionnaire answered page by page, while
    fresh (questionnaire_draft_fresh_since)."""
    return QuestionnaireDraft.objects.filter(
        patient=principal.patient,
        measure=measure,
        updated_at__gte=questionnaire_draft_fresh_since(),
    ).first()


def portal_outcome_measures(plan: Plan | None) -> tuple[str, ...]:
    """The questionnaires a plan asks for: the protocol's own (KOOS for a knee, RMDQ for a back)
    that the patient can answer themselves, then pain (NPRS) and their activities (PSFS)."""
    if plan is None:
        return ()
    codes = [*plan.protocol.outcome_measures, *PORTAL_OUTCOMES_ALWAYS]
    measures = clinical_outcomes.MEASURES
    # Licensed measures (ODI, WOMAC) are not embedded: only a clinician enters their totals.
    codes = [code for code in codes if code in measures and measures[code].embedded]
    # The condition's own questionnaire first, then the rest in the order given.
    codes.sort(key=lambda code: code in PORTAL_OUTCOMES_ALWAYS)
    return tuple(dict.fromkeys(codes))


@dataclass(frozen=True)
class OutcomeStatus:
    measure: str
    scores: tuple[OutcomeScore, ...]  # oldest first: the first is the baseline
    due: bool
    next_due: dt.date | None  # when it is due again (None: due now, or never again)
    changes: tuple[clinical_outcomes.Change, ...]  # latest against the first; () until twice

    @property
    def latest(self) -> OutcomeScore | None:
        return self.scores[-1] if self.scores else None


def portal_outcomes(
    principal: Principal, *, plan: Plan | None, today: dt.date
) -> tuple[OutcomeStatus, ...]:
    """Each questionnaire of the plan with the patient's scores and whether it is due: never
    answered (the baseline), or last answered `retest_weeks` ago or more. Nothing is due once
    the plan has ended. One query."""
    measures = portal_outcome_measures(plan)
    if not measures:
        return ()
    retest = dt.timedelta(weeks=plan.protocol.retest_weeks or OUTCOME_RETEST_DEFAULT_WEEKS)
    by_measure: dict[str, list[OutcomeScore]] = {code: [] for code in measures}
    for score in (
        outcomes_for(principal)
        .select_related(None)
        .filter(measure__in=measures)
        .order_by("taken_on", "id")
    ):
        by_measure[score.measure].append(score)
    statuses = []
    for code, scores in by_measure.items():
        next_due = scores[-1].taken_on + retest if scores else None
        due = plan.is_open and (next_due is None or next_due <= today)
        changes: tuple[clinical_outcomes.Change, ...] = ()
        if len(scores) >= 2:
            # The comparison outcome_changes makes, on rows already read.
            changes = clinical_outcomes.change(code, scores[0].scores, scores[-1].scores)
        statuses.append(
            OutcomeStatus(
                measure=code,
                scores=tuple(scores),
                due=due,
                next_due=next_due if plan.is_open and not due else None,
                changes=changes,
            )
        )
    return tuple(statuses)


def portal_reports(principal: Principal) -> list[Report]:
    """The patient's own plain-language reports, newest first (a clinician's version of the
    same report is not theirs to read)."""
    return list(
        reports_for(principal)
        .select_related(None)
        .order_by("-created_at", "-id")[:PORTAL_REPORTS_SHOWN]
    )


def portal_report(principal: Principal, *, report_id: int) -> Report:
    """One of the patient's plain-language reports; Report.DoesNotExist for anyone else's, and
    for a clinician-audience report even of the same patient."""
    return reports_for(principal).get(pk=report_id)


# --- Portal: reminders and calendar ----------------------------------------------------------

REMINDER_HISTORY_SHOWN = 10
# What each channel needs on the record; a channel without it cannot reach the patient.
REMINDER_CHANNEL_NEEDS = {Patient.Channel.EMAIL: "email", Patient.Channel.SMS: "phone"}


def reminder_channel_usable(patient: Patient, channel: str) -> bool:
    need = REMINDER_CHANNEL_NEEDS.get(channel)
    return need is None or bool(getattr(patient, need).strip())


@dataclass(frozen=True)
class ReminderSettings:
    """A patient's reminder choices and what they add up to, for the portal to put in words."""

    channel: str
    channel_usable: bool
    enabled: bool
    time: dt.time  # as chosen
    sends_at: dt.time  # when it really goes: a time in the clinic's quiet hours waits
    quiet_start: dt.time
    quiet_end: dt.time
    timezone: str
    plan_status: str | None  # of the open plan; None without one
    schedule_days: tuple[int, ...]

    @property
    def state(self) -> str:
        """Why reminders do or do not go out, the first that applies: paused (by the patient),
        off (channel "none"), unreachable (no address or number), no_plan, plan_paused, on."""
        if not self.enabled:
            return "paused"
        if self.channel == Patient.Channel.NONE:
            return "off"
        if not self.channel_usable:
            return "unreachable"
        if self.plan_status is None:
            return "no_plan"
        if self.plan_status != Plan.Status.ACTIVE:
            return "plan_paused"
        return "on"


def reminder_settings_for(
    principal: Principal, *, now: dt.datetime | None = None
) -> ReminderSettings:
    """The signed-in patient's reminder settings (one query: their open plan)."""
    patient, clinic = principal.patient, principal.clinic
    plan = (
        plans_for(principal)
        .select_related(None)
        .filter(status__in=Plan.OPEN_STATUSES)
        .only("status", "schedule_days")
        .first()
    )
    zone = zoneinfo.ZoneInfo(patient.timezone)
    moment = scheduling.reminder_moment(
        day=scheduling.local_day(now or dt.datetime.now(dt.UTC), patient.timezone),
        at=patient.reminder_time,
        timezone=patient.timezone,
        quiet_start=clinic.quiet_hours_start,
        quiet_end=clinic.quiet_hours_end,
    )
    return ReminderSettings(
        channel=patient.reminder_channel,
        channel_usable=reminder_channel_usable(patient, patient.reminder_channel),
        enabled=patient.reminders_enabled,
        time=patient.reminder_time,
        sends_at=moment.astimezone(zone).time(),
        quiet_start=clinic.quiet_hours_start,
        quiet_end=clinic.quiet_hours_end,
        timezone=patient.timezone,
        plan_status=None if plan is None else plan.status,
        schedule_days=() if plan is None else tuple(sorted(plan.schedule_days)),
    )


@dataclass(frozen=True)
class ReminderLine:
    due_date: dt.date
    kind: str
    status: str
    what: str  # which reminder, in plain words
    outcome: str  # what became of it, in plain words; never a gateway's error text


_REMINDER_KIND_WORDS = {
    Reminder.Kind.SESSION: "Walking day reminder",
    Reminder.Kind.NUDGE: "Reminder after a missed walk",
}
_CHANNEL_WORDS = {Patient.Channel.EMAIL: "by e-mail", Patient.Channel.SMS: "by text message"}
# The reasons services.reminder_send records, recognised by a phrase and said to the patient.
# Anything else gets a general sentence: a server's own message is not for them.
_REMINDER_DETAIL_WORDS = (
    ("already logged", "Skipped: you had already walked"),
    ("turned reminders off", "Not sent: your reminders were paused"),
    ("plan is paused", "Not sent: your walking plan was paused"),
    ("plan is", "Not sent: your walking plan had ended"),
    ("day has passed", "Not sent: it was too late in the day"),
    ("no e-mail address", "Not sent: no e-mail address"),
    ("no phone number", "Not sent: no mobile phone number"),
    ("no sms gateway", "Not sent: text messages are not working at the moment"),
)


_REMINDER_HISTORY_FIELDS = (
    "due_date",
    "kind",
    "channel",
    "status",
    "detail",
    "scheduled_for",
    "sent_at",
    "updated_at",
)


def _clock(moment: dt.datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local.hour}:{local.minute:02d}"


def _reminder_outcome(reminder: Reminder, zone: zoneinfo.ZoneInfo) -> str:
    channel = _CHANNEL_WORDS.get(reminder.channel, "")
    status = reminder.status
    if status == Reminder.Status.SENT:
        return f"Sent {channel} at {_clock(reminder.sent_at or reminder.updated_at, zone)}"
    if status == Reminder.Status.PENDING:
        return f"Waiting to be sent {channel} at {_clock(reminder.scheduled_for, zone)}"
    if status == Reminder.Status.SENDING:
        return f"Being sent {channel}"
    detail = reminder.detail.lower()
    for phrase, words in _REMINDER_DETAIL_WORDS:
        if phrase in detail:
            return words
    if status == Reminder.Status.FAILED:
        return f"Not sent: we could not deliver it {channel}".rstrip()
    return "Not sent"


def reminder_history_for(
    principal: Principal, *, limit: int = REMINDER_HISTORY_SHOWN
) -> list[ReminderLine]:
    """The signed-in patient's latest reminders, newest day first, each said in plain words."""
    if principal.patient is None:
        return []
    zone = zoneinfo.ZoneInfo(principal.patient.timezone)
    rows = (
        reminders_for(principal)
        .select_related(None)
        .only(*_REMINDER_HISTORY_FIELDS)
        .order_by("-due_date", "-id")[:limit]
    )
    return [
        ReminderLine(
            due_date=row.due_date,
            kind=row.kind,
            status=row.status,
            what=_REMINDER_KIND_WORDS.get(row.kind, "Reminder"),
            outcome=_reminder_outcome(row, zone),
        )
        for row in rows
    ]


# A token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
CALENDAR_TOKEN_MAX_LENGTH = 100


def calendar_token_hash(token: str) -> str:
    """The same SHA-256 as API keys: the token is long and random, so a plain hash suffices."""
    return api_key_hash(token)


def calendar_feed_for(principal: Principal) -> CalendarFeed | None:
    """The signed-in patient's calendar link, on or stopped; None if they never made one."""
    if principal.patient is None:
        return None
    return CalendarFeed.objects.filter(patient=principal.patient).first()


def calendar_feed_for_token(*, token: str) -> CalendarFeed | None:
    """The working calendar link a URL carries, with its patient and clinic; None for an unknown
    or stopped one, so the two look the same to whoever holds the URL."""
    if not token or len(token) > CALENDAR_TOKEN_MAX_LENGTH:
        return None
    return (
        CalendarFeed.objects.select_related("patient__clinic")
        .filter(token_hash=calendar_token_hash(token), revoked_at__isnull=True)
        .first()
    )
