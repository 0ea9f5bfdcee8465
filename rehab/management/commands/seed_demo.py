"""A demo clinic with realistic histories, made through the services (so every rule, decision
and audit event is what the product itself would have recorded). Safe to run again."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from rehab import services
from rehab.clinical import levels as L
from rehab.clinical import screening as clinical_screening
from rehab.clinical.outcomes import KOOS_ITEMS
from rehab.errors import RehabError
from rehab.models import Clinic, Clinician, Patient, Plan, Protocol, User

CLINIC_SLUG = "riverside"
CLINIC_NAME = "Riverside Physiotherapy"
CLINIC_TZ = "Europe/London"


@dataclass(frozen=True)
class Profile:
    first_name: str
    last_name: str
    condition: str
    story: str  # steady | slow | regression | fall | non_adherent | blocked | incomplete | override
    weeks: int
    auto_apply: bool = True
    findings: tuple[tuple[str, object], ...] = ()
    timezone: str = CLINIC_TZ


PROFILES = (
    Profile("Maria", "Lopez", L.KNEE_OA, "steady", 6),
    Profile("John", "Okafor", L.KNEE_OA, "regression", 5),
    Profile("Helen", "Whitfield", L.KNEE_OA, "fall", 4, findings=(("anticoagulated", True),)),
    Profile("Peter", "Novak", L.KNEE_OA, "non_adherent", 4),
    Profile("Aisha", "Rahman", L.KNEE_OA, "steady", 3, auto_apply=False),
    Profile("George", "Mills", L.KNEE_OA, "blocked", 0, findings=(("suspected_dvt", True),)),
    Profile("Chloe", "Bennett", L.PATELLOFEMORAL_PAIN, "steady", 5),
    Profile(
        "Lucas", "Martin", L.PATELLOFEMORAL_PAIN, "slow", 4, findings=(("knee_effusion", "1+"),)
    ),
    Profile("Emma", "Fischer", L.PATELLOFEMORAL_PAIN, "steady", 2, timezone="Europe/Berlin"),
    Profile("Noah", "Walsh", L.PATELLOFEMORAL_PAIN, "regression", 4, auto_apply=False),
    Profile("Sophie", "Turner", L.ACL_RECONSTRUCTION, "steady", 6),
    Profile("Daniel", "Kim", L.ACL_RECONSTRUCTION, "steady", 3),
    Profile("Grace", "Adeyemi", L.ACL_RECONSTRUCTION, "incomplete", 0),
    Profile("Oliver", "Brown", L.ACL_RECONSTRUCTION, "slow", 4, auto_apply=False),
    Profile(
        "Margaret",
        "Doyle",
        L.TOTAL_KNEE_ARTHROPLASTY,
        "steady",
        5,
        findings=(("feels_unsteady", True),),
    ),
    Profile(
        "Robert", "Hughes", L.TOTAL_KNEE_ARTHROPLASTY, "slow", 4, findings=(("berg_score", 44),)
    ),
    Profile(
        "Linda",
        "Schmidt",
        L.TOTAL_KNEE_ARTHROPLASTY,
        "override",
        3,
        findings=(("fever_or_systemic_infection", True),),
    ),
    Profile("Frank", "Russo", L.TOTAL_KNEE_ARTHROPLASTY, "non_adherent", 3),
    Profile("Sarah", "Connor", L.CHRONIC_LOW_BACK_PAIN, "steady", 6, timezone="America/New_York"),
    Profile(
        "David", "Ng", L.CHRONIC_LOW_BACK_PAIN, "steady", 4, findings=(("beta_blockers", True),)
    ),
    Profile("Fatima", "Haddad", L.CHRONIC_LOW_BACK_PAIN, "regression", 5),
    Profile(
        "Thomas",
        "Eriksen",
        L.CHRONIC_LOW_BACK_PAIN,
        "fall",
        3,
        findings=(("worries_about_falling", True),),
    ),
    Profile("Julia", "Weber", L.CHRONIC_LOW_BACK_PAIN, "steady", 2, auto_apply=False),
    Profile(
        "Ian",
        "McKenzie",
        L.CHRONIC_LOW_BACK_PAIN,
        "blocked",
        0,
        findings=(("saddle_anaesthesia", True),),
    ),
)


class Command(BaseCommand):
    help = "Create the demo clinic, its clinicians and 24 patients with weeks of history."

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        password = settings.DEMO_PASSWORD
        if Clinic.objects.filter(slug=CLINIC_SLUG).exists():
            self.stdout.write(f'The demo clinic "{CLINIC_NAME}" is already loaded.')
        else:
            if not Protocol.objects.filter(clinic__isnull=True).exists():
                services.protocol_library_load()
            with transaction.atomic():
                count = self._seed(password)
            self.stdout.write(f'Created the demo clinic "{CLINIC_NAME}" with {count} patients.')
        self.stdout.write(
            "Demo logins (password for all: the DEMO_PASSWORD setting, by default "
            f'"{password}"):\n'
            "  hughes   clinician, clinic administrator  -> the dashboard at /clinic/\n"
            "  patel    clinician                        -> the dashboard at /clinic/\n"
            "  maria    patient (Maria Lopez)            -> the portal at /portal/\n"
            "  admin    Django admin (superuser)         -> /admin/"
        )

    def _user(self, username, password, *, email: str = "", **fields) -> User:
        user = User(username=username, email=email or f"{username}@riverside.example", **fields)
        user.set_password(password)
        user.save()
        return user

    def _seed(self, password: str) -> int:
        rng = random.Random(20260301)  # the same demo every time
        clinic = Clinic.objects.create(
            name=CLINIC_NAME,
            slug=CLINIC_SLUG,
            timezone=CLINIC_TZ,
            # A number from Ofcom's range kept for drama and examples: it rings nobody.
            phone="0161 496 0000",
            address="Riverside Physiotherapy\n12 Mill Lane\nManchester M1 7ZZ",
            opening_hours="Monday to Friday 8:00-18:00\nSaturday 9:00-12:00",
        )
        if not User.objects.filter(username="admin").exists():
            self._user(
                "admin",
                password,
                is_staff=True,
                is_superuser=True,
                first_name="Site",
                last_name="Administrator",
            )
        lead = Clinician.objects.create(
            user=self._user("hughes", password, first_name="Rhian", last_name="Hughes"),
            clinic=clinic,
            is_clinic_admin=True,
            title="Clinical lead physiotherapist",
        )
        colleague = Clinician.objects.create(
            user=self._user("patel", password, first_name="Dev", last_name="Patel"), clinic=clinic
        )
        today = timezone.now().astimezone(zoneinfo.ZoneInfo(CLINIC_TZ)).date()
        for n, profile in enumerate(PROFILES):
            actor = (lead if n % 2 == 0 else colleague).user
            email = f"{profile.first_name.lower()}.{profile.last_name.lower()}@example.org"
            # Maria signs in with her record's address: one address, as the portal keeps it.
            portal_user = (
                self._user("maria", password, email=email, first_name="Maria", last_name="Lopez")
                if n == 0
                else None
            )
            patient = services.patient_create(
                clinic=clinic,
                actor=actor,
                first_name=profile.first_name,
                last_name=profile.last_name,
                condition=profile.condition,
                date_of_birth=dt.date(
                    1950 + rng.randrange(40), rng.randrange(1, 13), rng.randrange(1, 28)
                ),
                email=email,
                timezone_name=profile.timezone,
                external_id=f"RW-{1001 + n}",
                user=portal_user,
            )
            self._history(patient, profile, actor, today, rng)
        return len(PROFILES)

    def _history(
        self, patient: Patient, profile: Profile, actor: User, today: dt.date, rng
    ) -> None:
        start = today - dt.timedelta(days=7 * profile.weeks) if profile.weeks else today
        answers = clinical_screening.negative_answers(profile.condition)
        answers.update(dict(profile.findings))
        if profile.story == "incomplete":
            answers.pop("full_knee_extension")
            answers.pop("feels_unsteady")
        services.screening_submit(patient=patient, answers=answers, actor=actor, today=start)
        if profile.story in ("blocked", "incomplete"):
            return
        protocol = Protocol.objects.get(clinic__isnull=True, condition=profile.condition)
        plan = services.plan_assign(
            patient=patient,
            protocol=protocol,
            actor=actor,
            start_date=start,
            auto_apply=profile.auto_apply,
            override_reason=(
                "Fever resolved five days ago; GP confirmed by phone that exercise may start."
                if profile.story == "override"
                else ""
            ),
            today=start,
        )
        # A clinical note at the start, so the patient page and the clinician's report show one.
        services.clinical_note_add(
            patient=patient,
            actor=actor,
            noted_on=start,
            text="First session in clinic: backward walking shown on the treadmill with both "
            "handrails; safety instructions given and understood.",
            today=today,
        )
        self._outcomes(patient, profile, actor, start, today, rng)
        fall_day = start + dt.timedelta(days=7 * profile.weeks - 4)
        flare_from = start + dt.timedelta(days=15)
        day = start
        while day < today:
            plan.refresh_from_db()
            if plan.status != Plan.Status.ACTIVE:
                break
            if day.weekday() in plan.schedule_days and self._attends(profile, rng):
                self._log(plan, profile, actor, day, today, rng, fall_day, flare_from)
            day += dt.timedelta(days=1)

    @staticmethod
    def _attends(profile: Profile, rng) -> bool:
        return rng.random() < (0.3 if profile.story == "non_adherent" else 0.95)

    def _log(self, plan, profile, actor, day, today, rng, fall_day, flare_from) -> None:
        prescription = plan.current_prescription().level
        base = 3 if profile.story == "slow" else 2
        worst = base + rng.choice((0, 1, 1, 2))
        effort = rng.choice((3, 3, 4, 4)) + (1 if profile.story == "slow" else 0)
        flare = profile.story == "regression" and flare_from <= day < flare_from + dt.timedelta(
            days=3
        )
        if flare:
            worst, effort = 6 + rng.randrange(2), 6
        before = max(0, base + rng.choice((-1, 0, 0, 1)))
        morning = before + (2 if flare else rng.choice((-1, 0, 0)))
        try:
            services.session_log(
                plan=plan,
                actor=actor,
                date=day,
                today=day + dt.timedelta(days=1),
                minutes_done=prescription.minutes
                if rng.random() < 0.85
                else prescription.minutes - 2,
                speed_kmh=prescription.speed_kmh or round(rng.uniform(2.0, 3.0), 1),
                incline_pct=prescription.incline_pct,
                setting=prescription.setting,
                pain_before=before,
                pain_worst=min(worst, 10),
                pain_after=max(0, min(worst - 1, 10)),
                pain_next_morning=max(0, min(morning, 10)),
                effort=min(effort, 10),
                swelling="same" if profile.condition in L.KNEE_CONDITIONS and flare else "none",
                fall=profile.story == "fall" and day >= fall_day,
                notes="Felt the knee more on the stairs afterwards." if flare else "",
            )
        except RehabError as exc:
            # The demo follows the same rules as everyone; a refused log is simply not made.
            if self.verbosity > 1:
                self.stderr.write(f"{plan.patient} {day}: {exc.code} {exc.fields}")

    def _outcomes(self, patient, profile, actor, start, today, rng) -> None:
        measures = (
            ("rmdq", "nprs") if profile.condition == L.CHRONIC_LOW_BACK_PAIN else ("koos", "nprs")
        )
        weeks = range(0, profile.weeks + 1, 2)
        for week in weeks:
            taken_on = min(start + dt.timedelta(days=7 * week), today)
            better = week / max(profile.weeks, 1)
            for measure in measures:
                if measure == "nprs":
                    answers = {"score": max(0, round(6 - 3 * better))}
                elif measure == "rmdq":
                    yes = max(0, round(12 - 7 * better))
                    answers = {f"R{i}": i <= yes for i in range(1, 25)}
                else:
                    level = max(0, round(2.5 - 1.5 * better + rng.uniform(-0.4, 0.4)))
                    answers = {item: level for items in KOOS_ITEMS.values() for item in items}
                services.outcome_record(
                    patient=patient,
                    measure=measure,
                    answers=answers,
                    actor=actor,
                    taken_on=taken_on,
                    today=today,
                )
