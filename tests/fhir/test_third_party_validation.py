"""Every resource the FHIR door emits, validated by a validator other than the one that builds it:
Medplum's (.ci/fhir_validate.mjs), against the R4 StructureDefinitions we declare. fhir.resources
builds ours from its R4B models, so an element R4B has and R4 has not, or a shape the two read
differently, fails here and not in a clinic's system.

One clinic, built once for the module, rich enough that every type of the registry has at least
one resource; its metadata, reads, searches (whole clinic, paged, by patient, as the patient),
$everything and error responses go to the validator in one Node process for the module.

Needs Node.js and `npm ci --prefix .ci`; without them these tests skip, as the browser tests do
without chromium. `.ci/run` installs both and sets REQUIRE_FHIR_VALIDATOR=1, under which a missing
validator fails instead of skipping: CI never passes with the check skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from rehab import services
from rehab.clinical import levels as L
from rehab.fhir.registry import REGISTRY
from tests.factories import (
    ClinicianFactory,
    PatientFactory,
    builtin_protocol,
    clean_answers,
    good_session,
)
from tests.fhir.conftest import World, fhir_json, make_world, ready_report

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "fhir_validate.mjs"
PACKAGES = [ROOT / ".ci" / "node_modules" / "@medplum" / name for name in ("core", "definitions")]
ERROR = ("error", "fatal")

# The module's clinic is built by a module fixture; the mark is what has pytest-django set up
# the test database (the fixture's django_db_setup alone leaves the settings' own).
pytestmark = pytest.mark.django_db


def require_validator() -> None:
    """Skips the test without Node.js or the installed packages; fails instead under
    REQUIRE_FHIR_VALIDATOR (CI), where a skipped check would be a check not made."""
    missing = [str(p.relative_to(ROOT)) for p in PACKAGES if not p.is_dir()]
    if shutil.which("node") is None:
        reason = "no node on PATH"
    elif missing:
        reason = f"{', '.join(missing)} not installed (npm ci --prefix .ci)"
    else:
        return
    if os.environ.get("REQUIRE_FHIR_VALIDATOR"):
        pytest.fail(f"REQUIRE_FHIR_VALIDATOR is set but the validator cannot run: {reason}")
    pytest.skip(f"Medplum's FHIR validator cannot run: {reason} (.ci/run installs it)")


def run_validator(resources: list[dict]) -> list[dict]:
    """The validator's results for the resources: one per resource and per Bundle entry, with
    the index of the resource it is (in) and the entry's position."""
    require_validator()
    result = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # 0: no error, 1: errors, reported; anything else is the script failing.
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)["results"]


# Resources every R4 validator must refuse, each for one kind of rule (a code outside its required
# value set, a required element, a primitive's format, an invariant, a Bundle's entry): a
# validator that passes them checks nothing.
CANARIES: list[tuple[dict, str]] = [
    ({"resourceType": "Patient", "id": "bad-gender", "gender": "x"}, "Patient.gender"),
    (
        {"resourceType": "Observation", "id": "no-status", "code": {"text": "x"}},
        "Observation.status",
    ),
    ({"resourceType": "Patient", "id": "bad-date", "birthDate": "17/05/1960"}, "Patient.birthDate"),
    (
        {
            "resourceType": "Observation",
            "id": "obs-6",
            "status": "final",
            "code": {"text": "x"},
            "valueInteger": 1,
            "dataAbsentReason": {"text": "asked, not answered"},
        },
        "Observation",
    ),
    (
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "CarePlan", "status": "active"}}],
        },
        "Bundle.entry[0].resource.intent",
    ),
]


def _assign(patient, *, start: dt.date, actor=None, sessions=(), **answers):
    services.screening_submit(
        patient=patient,
        answers=clean_answers(patient.condition, **answers),
        actor=actor,
        today=start,
    )
    plan = services.plan_assign(
        patient=patient,
        protocol=builtin_protocol(patient.condition),
        actor=actor,
        start_date=start,
        today=start,
    )
    for day, extra in enumerate(sessions):
        date = start + dt.timedelta(days=day)
        services.session_log(plan=plan, actor=actor, date=date, today=date, **good_session(**extra))
    return plan


def build_clinic() -> World:
    """The conftest's world, with every shape a resource can take: each plan status, a plan for a
    condition the patient no longer has, a plan with the screening's caps and one on schedule
    days, a plan without an author, sessions with and without next-morning pain, a fall with
    chest pain, ready reports, a condition with no SNOMED CT mapping, an archived patient
    without record number or telecom, outcome measures and a note. A type added to the registry
    whose rows are none of these fails test_every_type_has_resources: add its rows here."""
    w = make_world()
    actor = w.clinician.user
    today = w.patient_a.local_today()
    start = today - dt.timedelta(days=6)

    w.plan.schedule_days = [0, 2, 4]
    w.plan.save()
    services.session_add_next_morning_pain(
        session=w.sessions[0], pain=4, actor=actor, today=w.sessions[0].date + dt.timedelta(days=1)
    )
    services.outcome_record(patient=w.patient_a, measure="nprs", answers={"score": 6}, actor=actor)
    koos = dict.fromkeys(("P1", "P2", "P3", "P4", "P5", "S1", "S2", "S3", "S4"), 1)
    services.outcome_record(patient=w.patient_a, measure="koos", answers=koos, actor=actor)
    services.clinical_note_add(patient=w.patient_a, actor=actor, noted_on=today, text="Doing well.")

    # Chronic low-back pain, capped by the screening (feels unsteady), paused with a reason.
    capped = _assign(w.patient_b, start=start, actor=actor, sessions=[{}], feels_unsteady=True)
    services.plan_pause(plan=capped, actor=actor, reason="Away for a week")

    # A near fall, then a fall with chest pain (the plan pauses itself): two AdverseEvents.
    fell = PatientFactory(clinic=w.clinic1, condition=L.ACL_RECONSTRUCTION)
    _assign(
        fell,
        start=start,
        actor=actor,
        sessions=[{"near_fall": True}, {"fall": True, "chest_pain": True}],
    )

    # Completed, then the patient's condition changed: the plan names its condition.
    moved = PatientFactory(clinic=w.clinic1, condition=L.TOTAL_KNEE_ARTHROPLASTY)
    done = _assign(moved, start=start, sessions=[{}])
    services.plan_complete(plan=done, actor=actor)
    moved.condition = L.KNEE_OA
    moved.save()

    # No SNOMED CT mapping; discontinued; archived; no record number, phone or e-mail.
    gone = PatientFactory(clinic=w.clinic1, condition=L.PATELLOFEMORAL_PAIN, email="")
    stopped = _assign(gone, start=start, sessions=[{}])
    services.plan_discontinue(plan=stopped, actor=None, reason="Moved away")
    services.patient_archive(patient=gone, actor=None)

    # Reports: one ready for the clinician and one for the patient (DocumentReference).
    ready_report(w.patient_a, audience="clinician")
    ready_report(w.patient_a, audience="patient")
    return w


@dataclass
class Emitted:
    sources: list[str]  # the request each resource came from, by index
    resources: list[dict]
    found: dict[str, set[str]]  # type -> the ids its clinic-wide search gave


def _search_all(client, url: str, emitted: Emitted) -> list[dict]:
    """Every page of a search, following next links; the entries' resources."""
    found = []
    while url:
        bundle = _get(client, url, emitted)
        found += [entry["resource"] for entry in bundle.get("entry", [])]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    return found


def _get(client, url: str, emitted: Emitted, status: int = 200) -> dict:
    body = fhir_json(client.get(url), status)
    emitted.sources.append(f"GET {url} ({status})")
    emitted.resources.append(body)
    return body


def collect(w: World) -> Emitted:
    emitted = Emitted(sources=[], resources=[], found={})
    base = "/fhir/r4"
    _get(w.anonymous, f"{base}/metadata", emitted)
    # The audit trail is for clinic administrators only (a key and a patient get a 403).
    admin = APIClient()
    admin.force_login(ClinicianFactory(clinic=w.clinic1, is_clinic_admin=True).user)
    for name, rt in REGISTRY.items():
        client = admin if rt.admin_only else w.key1
        everything = _search_all(client, f"{base}/{name}?_count=100", emitted)
        emitted.found[name] = {r["id"] for r in everything}
        _search_all(client, f"{base}/{name}?_count=2", emitted)  # pages with next links
        if rt.admin_only:
            _get(w.token_a, f"{base}/{name}", emitted, 403)
        else:
            _search_all(w.token_a, f"{base}/{name}", emitted)  # a patient's own
        if rt.param("patient"):
            _search_all(client, f"{base}/{name}?patient={w.patient_a.pk}", emitted)
        for resource_id in sorted(emitted.found[name]):
            _get(client, f"{base}/{name}/{resource_id}", emitted)
        _get(client, f"{base}/{name}/999999999", emitted, 404)  # an id no row has
    for patient_id in sorted(emitted.found["Patient"]):
        _get(w.key1, f"{base}/Patient/{patient_id}/$everything", emitted)
    _get(w.token_a, f"{base}/Patient/{w.patient_a.pk}/$everything", emitted)
    # Errors: another clinic's patient, an unknown type, searches we cannot read, no credentials.
    _get(w.key2, f"{base}/Patient/{w.patient_a.pk}", emitted, 404)
    _get(w.key1, f"{base}/Foo", emitted, 404)
    _get(w.key1, f"{base}/Patient?colour=red", emitted, 400)
    _get(w.key1, f"{base}/Patient?_count=many", emitted, 400)
    _get(w.anonymous, f"{base}/Patient", emitted, 401)
    return emitted


@dataclass
class Validated:
    emitted: Emitted
    canaries: list[dict]  # the validator's results for CANARIES, by resource
    results: list[dict]  # its results for the emitted resources


@pytest.fixture(scope="module")
def validated(django_db_setup, django_db_blocker) -> Validated:
    """The clinic built and read once for the module (in a transaction rolled back at the end,
    as each test's own), and validated in one Node process with the canaries before it."""
    require_validator()  # before building anything
    with django_db_blocker.unblock(), transaction.atomic():
        emitted = collect(build_clinic())
        transaction.set_rollback(True)
    canaries = [resource for resource, _ in CANARIES]
    results = run_validator(canaries + emitted.resources)
    offset = len(canaries)
    return Validated(
        emitted=emitted,
        canaries=[r for r in results if r["index"] < offset and r["entry"] is None],
        results=[{**r, "index": r["index"] - offset} for r in results if r["index"] >= offset],
    )


def test_every_type_has_resources(validated):
    for name, rt in REGISTRY.items():
        ids = validated.emitted.found[name]
        assert ids, (
            f"The clinic of {__name__}.build_clinic has no {name}, so the validator never sees "
            f"one: add the rows a {name} comes from there."
        )
        for part in rt.parts:
            assert any(i.endswith(f"-{part}") for i in ids), f"no {name} <id>-{part}: add one"


@pytest.mark.parametrize(("index", "expression"), [(i, e) for i, (_, e) in enumerate(CANARIES)])
def test_the_validator_refuses_a_wrong_resource(validated, index, expression):
    issues = validated.canaries[index]["issues"]
    assert any(
        issue["severity"] in ERROR and expression in issue.get("expression", []) for issue in issues
    ), f"{CANARIES[index][0]} passed Medplum's validator: {issues}"


def _describe(result: dict, sources: list[str]) -> list[str]:
    where = sources[result["index"]]
    if result["entry"] is not None:
        where += f" entry[{result['entry']}]"
    return [
        f"{issue['severity']}: {where} {result['resource']} {issue.get('expression', [])}: "
        f"{issue.get('details', {}).get('text', '')} {issue.get('diagnostics', '')}".rstrip()
        for issue in result["issues"]
    ]


def test_every_emitted_resource_passes_medplum_validation(validated):
    emitted = validated.emitted
    types = {r["resourceType"] for r in emitted.resources}
    assert {"CapabilityStatement", "Bundle", "OperationOutcome", *REGISTRY} <= types
    checked = len(validated.results)
    assert checked > len(emitted.resources)  # the Bundles' entries one by one, too
    errors = [r for r in validated.results if any(i["severity"] in ERROR for i in r["issues"])]
    if errors:
        lines = [line for r in validated.results for line in _describe(r, emitted.sources)]
        pytest.fail(
            f"Medplum's validator found errors in {len(errors)} of {checked} resources "
            "(warnings and information listed too):\n" + "\n".join(lines)
        )
