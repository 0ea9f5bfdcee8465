"""Writing a Patient through the FHIR door: create (POST, conditional with If-None-Exist), update
by id and conditional update by identifier. Who may write, what an invalid resource is told
(the element named), what is stored and read back, the audit, the queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from rehab import services
from rehab.audit import AuditAction
from rehab.clinical import levels as L
from rehab.fhir import codes, write
from rehab.models import AuditEvent, Patient
from tests.factories import ClinicianFactory, PatientFactory
from tests.fhir.conftest import FHIR_JSON, fhir_json, outcome

pytestmark = pytest.mark.django_db


def record_system(slug: str = "one") -> str:
    return codes.record_number_system(slug)


def condition_extension(code: str = L.KNEE_OA, system: str | None = None) -> dict:
    return {
        "url": codes.patient_condition_extension(),
        "valueCodeableConcept": {
            "coding": [{"system": system or codes.local_system("condition"), "code": code}]
        },
    }


def new_patient(**changes) -> dict:
    """A Patient as a clinic system sends one: record number, name, birth date, telecom,
    condition."""
    return {
        "resourceType": "Patient",
        "extension": [condition_extension()],
        "identifier": [{"system": record_system(), "value": "MRN-500"}],
        "name": [{"use": "official", "family": "Brown", "given": ["Bea", "Jo"]}],
        "telecom": [
            {"system": "phone", "value": "+44 20 7946 0500"},
            {"system": "email", "value": "bea@example.org"},
        ],
        "birthDate": "1958-03-09",
        **changes,
    }


def send(client, method: str, url: str, body, content_type: str = FHIR_JSON, **headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return getattr(client, method)(f"/fhir/r4/{url}", data, content_type=content_type, **headers)


def issues(response, status: int) -> list[tuple[str, str, list[str]]]:
    """An OperationOutcome's issues as (severity, code, expression)."""
    body = fhir_json(response, status)
    assert body["resourceType"] == "OperationOutcome"
    return [(i["severity"], i["code"], i.get("expression", [])) for i in body["issue"]]


def events_since(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))


def last_event_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def by_identifier(value: str, slug: str = "one") -> str:
    return f"Patient?identifier={record_system(slug)}|{value}"


@pytest.fixture
def clinician(world) -> APIClient:
    client = APIClient()
    client.force_login(world.clinician.user)
    return client


# --- create -----------------------------------------------------------------------------------


def test_post_creates_the_patient_in_the_keys_clinic_with_location_and_resource(world):
    before = last_event_pk()
    response = send(world.key1, "post", "Patient", new_patient())
    body = fhir_json(response, 201)
    patient = Patient.objects.get(pk=int(body["id"]))
    assert response["Location"] == f"http://testserver/fhir/r4/Patient/{patient.pk}"
    assert (patient.clinic, patient.external_id) == (world.clinic1, "MRN-500")
    assert (patient.first_name, patient.last_name) == ("Bea Jo", "Brown")
    assert patient.date_of_birth == dt.date(1958, 3, 9)
    assert (patient.phone, patient.email) == ("+44 20 7946 0500", "bea@example.org")
    assert patient.condition == L.KNEE_OA
    # What a Patient cannot say is the clinic's default, as a create through the REST API.
    assert (patient.timezone, patient.reminder_time) == (world.clinic1.timezone, dt.time(9))
    [event] = events_since(before)
    assert (event.action, event.patient_id, event.actor_label) == (
        AuditAction.PATIENT_CREATE,
        patient.pk,
        "api-key:EHR",
    )


def test_what_is_written_reads_back_the_same(world):
    created = fhir_json(send(world.key1, "post", "Patient", new_patient()), 201)
    read = fhir_json(world.key1.get(f"/fhir/r4/Patient/{created['id']}"))
    assert read == created
    assert read["identifier"][0]["system"] == record_system()
    assert read["identifier"][0]["value"] == "MRN-500"
    assert read["name"] == [{"use": "official", "family": "Brown", "given": ["Bea Jo"]}]
    assert read["birthDate"] == "1958-03-09"
    assert read["extension"] == [
        {
            "url": codes.patient_condition_extension(),
            "valueCodeableConcept": {
                "coding": [
                    {
                        "system": codes.SNOMED,
                        "code": "239873007",
                        "display": "Osteoarthritis of knee",
                    },
                    {
                        "system": codes.local_system("condition"),
                        "code": L.KNEE_OA,
                        "display": L.CONDITIONS[L.KNEE_OA],
                    },
                ],
                "text": L.CONDITIONS[L.KNEE_OA],
            },
        }
    ]


def test_a_read_patient_sent_back_unchanged_changes_nothing(world):
    a = world.patient_a
    read = fhir_json(world.key1.get(f"/fhir/r4/Patient/{a.pk}"))
    before = last_event_pk()
    written = fhir_json(send(world.key1, "put", f"Patient/{a.pk}", read))
    assert {**written, "meta": None} == {**read, "meta": None}
    [event] = events_since(before)
    assert (event.action, event.detail) == (AuditAction.PATIENT_UPDATE, {"fields": []})


def test_the_condition_may_be_coded_in_snomed_ct(world):
    body = new_patient(extension=[condition_extension("278860009", codes.SNOMED)])
    created = fhir_json(send(world.key1, "post", "Patient", body), 201)
    assert Patient.objects.get(pk=int(created["id"])).condition == L.CHRONIC_LOW_BACK_PAIN


def test_the_ids_of_a_posted_patient_are_ours_not_the_clients(world):
    created = fhir_json(send(world.key1, "post", "Patient", new_patient(id="abc")), 201)
    assert created["id"] != "abc"
    assert Patient.objects.filter(pk=int(created["id"])).exists()


def test_plain_application_json_is_accepted_and_another_type_is_415(world):
    fhir_json(send(world.key1, "post", "Patient", new_patient(), "application/json"), 201)
    body = new_patient(identifier=[])
    for content_type in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
        response = send(world.key1, "post", "Patient", json.dumps(body), content_type)
        outcome(response, 415, "not-supported")
    assert Patient.objects.filter(clinic=world.clinic1, last_name="Brown").count() == 1


def test_prefer_return_minimal_answers_with_no_body(world):
    response = send(world.key1, "post", "Patient", new_patient(), HTTP_PREFER="return=minimal")
    assert response.status_code == 201
    assert response.content == b""
    assert response["Location"].startswith("http://testserver/fhir/r4/Patient/")


def test_elements_we_do_not_keep_are_ignored_and_listed_on_request(world):
    body = new_patient(
        gender="female",
        address=[{"city": "Leeds"}],
        telecom=[
            {"system": "email", "value": "bea@example.org"},
            {"system": "email", "value": "work@example.org"},
            {"system": "fax", "value": "0100"},
        ],
        identifier=[
            {"system": record_system(), "value": "MRN-500"},
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"},
        ],
    )
    response = send(world.key1, "post", "Patient", body, HTTP_PREFER="return=OperationOutcome")
    assert issues(response, 201) == [
        ("information", "informational", [element])
        for element in (
            "Patient.gender",
            "Patient.address",
            "Patient.identifier[1]",
            "Patient.telecom[1]",
            "Patient.telecom[2]",
        )
    ]
    patient = Patient.objects.get(clinic=world.clinic1, external_id="MRN-500")
    assert (patient.email, patient.phone) == ("bea@example.org", "")
    everything = send(
        world.key1,
        "put",
        by_identifier("MRN-500"),
        new_patient(),
        **{"HTTP_PREFER": "return=OperationOutcome"},
    )
    assert issues(everything, 200) == [("information", "informational", [])]


# --- who may write ----------------------------------------------------------------------------


def test_a_clinician_of_the_clinic_may_write(world, clinician):
    created = fhir_json(send(clinician, "post", "Patient", new_patient()), 201)
    patient = Patient.objects.get(pk=int(created["id"]))
    assert (patient.clinic, patient.created_by) == (world.clinic1, world.clinician.user)
    body = {**created, "birthDate": "1958-03-10"}
    fhir_json(send(clinician, "put", f"Patient/{patient.pk}", body))


def test_a_patients_token_writes_nothing_not_even_their_own_record(world):
    a = world.patient_a
    own = fhir_json(world.token_a.get(f"/fhir/r4/Patient/{a.pk}"))
    for method, url, body in (
        ("post", "Patient", new_patient()),
        ("put", by_identifier("MRN-500"), new_patient()),
        ("put", by_identifier("MRN-001"), own),
        ("put", f"Patient/{a.pk}", {**own, "birthDate": "1961-01-01"}),
    ):
        message = outcome(send(world.token_a, method, url, body), 403, "forbidden")
        assert "patient's login" in message
    assert not Patient.objects.filter(external_id="MRN-500").exists()
    a.refresh_from_db()
    assert a.date_of_birth == dt.date(1960, 5, 17)


def test_a_method_no_one_may_use_is_a_405_for_a_patient_too(world):
    for method in ("patch", "delete"):
        url = f"Patient/{world.patient_a.pk}"
        outcome(send(world.token_a, method, url, {}), 405, "not-supported")


@pytest.mark.parametrize(
    ("method", "url"), [("post", "Patient"), ("put", "Patient?identifier=X"), ("put", "Patient/1")]
)
def test_no_credentials_is_401(world, method, url):
    outcome(send(world.anonymous, method, url, new_patient()), 401, "login")


def test_another_clinics_patient_id_is_404_and_untouched(world):
    z = world.patient_z
    body = {**new_patient(), "id": str(z.pk)}
    outcome(send(world.key1, "put", f"Patient/{z.pk}", body), 404, "not-found")
    other = APIClient()
    other.force_login(ClinicianFactory(clinic=world.clinic2).user)
    a = world.patient_a
    outcome(send(other, "put", f"Patient/{a.pk}", {**body, "id": str(a.pk)}), 404, "not-found")
    outcome(send(world.key1, "put", "Patient/999999", {**body, "id": "999999"}), 404, "not-found")
    z.refresh_from_db()
    assert z.last_name != "Brown"


# --- update by id ------------------------------------------------------------------------------


def test_put_by_id_replaces_what_the_patient_carries_and_keeps_what_it_cannot(world):
    b = world.patient_b
    services.patient_update(patient=b, actor=None, email="b@example.org", reminder_time=dt.time(7))
    before = last_event_pk()
    body = new_patient(id=str(b.pk), telecom=[{"system": "phone", "value": "0113 496 0000"}])
    body.pop("extension")
    written = fhir_json(send(world.key1, "put", f"Patient/{b.pk}", body))
    [event] = events_since(before)
    b.refresh_from_db()
    assert (b.external_id, b.last_name, b.phone, b.email) == (
        "MRN-500",
        "Brown",
        "0113 496 0000",
        "",
    )
    # Not in a Patient, so kept: the reminder time, and the condition when the extension is out.
    assert (b.reminder_time, b.condition) == (dt.time(7), L.CHRONIC_LOW_BACK_PAIN)
    assert written == fhir_json(world.key1.get(f"/fhir/r4/Patient/{b.pk}"))
    assert event.action == AuditAction.PATIENT_UPDATE
    assert event.patient_id == b.pk
    assert event.detail["fields"] == [
        "date_of_birth",
        "email",
        "external_id",
        "first_name",
        "last_name",
        "phone",
    ]


def test_put_by_id_needs_the_urls_id_in_the_body(world):
    a = world.patient_a
    for body in (new_patient(), new_patient(id=str(world.patient_b.pk))):
        assert issues(send(world.key1, "put", f"Patient/{a.pk}", body), 400) == [
            ("error", "invalid", ["Patient.id"])
        ]
    a.refresh_from_db()
    assert a.last_name == "Adams"


def test_a_condition_change_while_a_plan_is_open_is_a_409(world):
    a = world.patient_a
    body = new_patient(id=str(a.pk), extension=[condition_extension(L.CHRONIC_LOW_BACK_PAIN)])
    body["identifier"] = [{"system": record_system(), "value": "MRN-001"}]
    response = send(world.key1, "put", f"Patient/{a.pk}", body)
    condition = f"Patient.extension('{codes.patient_condition_extension()}')"
    assert issues(response, 409) == [("error", "conflict", [condition])]
    a.refresh_from_db()
    assert (a.condition, a.last_name) == (L.KNEE_OA, "Adams")


def test_an_archived_patient_is_not_updated(world):
    b = world.patient_b
    services.patient_archive(patient=b, actor=None)
    body = new_patient(id=str(b.pk))
    body.pop("extension")
    assert issues(send(world.key1, "put", f"Patient/{b.pk}", body), 409) == [
        ("error", "conflict", [])
    ]


# --- conditional update and create ------------------------------------------------------------


def test_conditional_update_creates_when_none_matches_then_updates_the_one_that_does(world):
    url = by_identifier("MRN-500")
    first = send(world.key1, "put", url, new_patient())
    created = fhir_json(first, 201)
    assert first["Location"] == f"http://testserver/fhir/r4/Patient/{created['id']}"
    before = last_event_pk()
    updated = fhir_json(send(world.key1, "put", url, new_patient(birthDate="1958-04-01")), 200)
    assert updated["id"] == created["id"]
    assert Patient.objects.filter(clinic=world.clinic1, external_id="MRN-500").count() == 1
    [event] = events_since(before)
    assert (event.action, event.detail) == (
        AuditAction.PATIENT_UPDATE,
        {"fields": ["date_of_birth"]},
    )


def test_conditional_update_by_bare_value_or_our_id_finds_the_patient(world):
    a = world.patient_a
    body = new_patient(identifier=[{"system": record_system(), "value": "MRN-001"}])
    fhir_json(send(world.key1, "put", "Patient?identifier=MRN-001", body))
    id_url = f"Patient?identifier={codes.patient_id_system()}|{a.pk}"
    fhir_json(send(world.key1, "put", id_url, {**body, "birthDate": "1960-05-18"}))
    a.refresh_from_db()
    assert (a.last_name, a.date_of_birth) == ("Brown", dt.date(1960, 5, 18))


def test_conditional_update_matching_several_is_412_and_writes_nothing(world):
    # A bare value under any system: B's record number, and A's id.
    a, b = world.patient_a, world.patient_b
    services.patient_update(patient=b, actor=None, external_id=str(a.pk))
    body = new_patient(identifier=[{"system": record_system(), "value": str(a.pk)}])
    response = send(world.key1, "put", f"Patient?identifier={a.pk}", body)
    assert issues(response, 412) == [("error", "multiple-matches", [])]
    a.refresh_from_db()
    b.refresh_from_db()
    assert "Brown" not in (a.last_name, b.last_name)


def test_conditional_update_never_touches_another_clinics_patient(world):
    z = PatientFactory(clinic=world.clinic2, external_id="MRN-500", last_name="Zed")
    # Our system, their record number: not ours, so a new patient of ours.
    created = fhir_json(send(world.key1, "put", by_identifier("MRN-500"), new_patient()), 201)
    assert Patient.objects.get(pk=int(created["id"])).clinic == world.clinic1
    # Their system: refused, in the query and in the body.
    body = new_patient(identifier=[{"system": record_system("two"), "value": "MRN-500"}])
    assert issues(send(world.key1, "put", by_identifier("MRN-500", "two"), body), 422) == [
        ("error", "business-rule", ["Patient.identifier[0].system"])
    ]
    response = send(world.key1, "put", by_identifier("MRN-500", "two"), new_patient())
    assert issues(response, 400) == [("error", "invalid", ["Patient.identifier"])]
    # Their patient's id under our patient-id system: no match, and no create with it.
    id_url = f"Patient?identifier={codes.patient_id_system()}|{z.pk}"
    assert issues(send(world.key1, "put", id_url, new_patient()), 400) == [
        ("error", "invalid", ["Patient.identifier"])
    ]
    z.refresh_from_db()
    assert (z.clinic, z.last_name, z.external_id) == (world.clinic2, "Zed", "MRN-500")


def test_a_conditional_create_must_match_its_condition(world):
    body = new_patient(identifier=[{"system": record_system(), "value": "MRN-501"}])
    response = send(world.key1, "put", by_identifier("MRN-500"), body)
    assert issues(response, 400) == [("error", "invalid", ["Patient.identifier"])]
    assert not Patient.objects.filter(external_id__in=["MRN-500", "MRN-501"]).exists()


def test_conditional_update_with_a_body_id_of_another_patient_is_400(world):
    body = new_patient(identifier=[{"system": record_system(), "value": "MRN-001"}])
    body["id"] = str(world.patient_b.pk)
    response = send(world.key1, "put", by_identifier("MRN-001"), body)
    assert issues(response, 400) == [("error", "invalid", ["Patient.id"])]


@pytest.mark.parametrize(
    "query",
    ["Patient", "Patient?identifier=", "Patient?name=x", "Patient?identifier=a&identifier=b"],
)
def test_a_conditional_update_names_one_identifier_and_nothing_else(world, query):
    assert issues(send(world.key1, "put", query, new_patient()), 400) == [
        ("error", "not-supported", [])
    ]


def test_if_none_exist_creates_only_when_none_matches(world):
    header = {"HTTP_IF_NONE_EXIST": f"identifier={record_system()}|MRN-500"}
    created = fhir_json(send(world.key1, "post", "Patient", new_patient(), **header), 201)
    before = last_event_pk()
    again = send(world.key1, "post", "Patient", new_patient(birthDate="1990-01-01"), **header)
    # Nothing written; the answer showed the patient, so it is a read.
    [event] = events_since(before)
    assert fhir_json(again, 200) == fhir_json(world.key1.get(f"/fhir/r4/Patient/{created['id']}"))
    assert Patient.objects.get(external_id="MRN-500").date_of_birth == dt.date(1958, 3, 9)
    assert (event.action, event.detail) == (
        AuditAction.PATIENT_READ,
        {"via": "fhir", "interaction": "create-exists"},
    )


def test_if_none_exist_matching_several_is_412_and_one_unlike_the_body_400(world):
    a = world.patient_a
    services.patient_update(patient=world.patient_b, actor=None, external_id=str(a.pk))
    several = {"HTTP_IF_NONE_EXIST": f"identifier={a.pk}"}
    response = send(world.key1, "post", "Patient", new_patient(), **several)
    assert issues(response, 412) == [("error", "multiple-matches", [])]
    unlike = {"HTTP_IF_NONE_EXIST": "identifier=MRN-999"}
    response = send(world.key1, "post", "Patient", new_patient(), **unlike)
    assert issues(response, 400) == [("error", "invalid", ["Patient.identifier"])]
    other = {"HTTP_IF_NONE_EXIST": "name=Brown"}
    response = send(world.key1, "post", "Patient", new_patient(), **other)
    assert issues(response, 400) == [("error", "not-supported", [])]
    assert not Patient.objects.filter(last_name="Brown").exists()


# --- invalid resources ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{not json", [("error", "invalid", [])]),
        ("[]", [("error", "invalid", [])]),
        ({"resourceType": "Observation"}, [("error", "invalid", ["Patient.resourceType"])]),
        ({"name": [{"family": "Brown"}]}, [("error", "invalid", ["Patient.resourceType"])]),
        (new_patient(colour="blue"), [("error", "structure", ["Patient.colour"])]),
        (new_patient(birthDate="09/03/1958"), [("error", "value", ["Patient.birthDate"])]),
        (
            new_patient(name=[{"family": 7, "given": ["Bea"]}]),
            [("error", "value", ["Patient.name[0].family"])],
        ),
        (
            new_patient(identifier=[{"system": record_system(), "value": ""}]),
            [("error", "value", ["Patient.identifier[0].value"])],
        ),
    ],
)
def test_a_body_that_is_not_a_valid_patient_is_400_naming_the_element(world, body, expected):
    assert issues(send(world.key1, "post", "Patient", body), 400) == expected
    assert not Patient.objects.filter(last_name="Brown").exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": [{"given": ["Bea"]}]}, [("required", ["Patient.name[0].family"])]),
        ({"name": [{"family": "Brown"}]}, [("required", ["Patient.name[0].given"])]),
        ({"name": []}, [("required", ["Patient.name"])]),
        ({"birthDate": "1958"}, [("value", ["Patient.birthDate"])]),
        ({"birthDate": "{tomorrow}"}, [("business-rule", ["Patient.birthDate"])]),
        ({"extension": []}, [("required", ["Patient.extension('{extension}')"])]),
        (
            {"extension": [condition_extension("ankle")]},
            [("code-invalid", ["Patient.extension('{extension}')"])],
        ),
        (
            {"identifier": [{"system": record_system(), "value": "MRN-001"}]},
            [("business-rule", ["Patient.identifier"])],
        ),
        (
            {
                "identifier": [
                    {"system": record_system(), "value": "MRN-500"},
                    {"system": record_system(), "value": "MRN-501"},
                ]
            },
            [("business-rule", ["Patient.identifier[1]"])],
        ),
        (
            {"identifier": [{"system": record_system("two"), "value": "MRN-500"}]},
            [("business-rule", ["Patient.identifier[0].system"])],
        ),
        (
            {"identifier": [{"system": codes.patient_id_system(), "value": "1"}]},
            [("business-rule", ["Patient.identifier"])],
        ),
        (
            {"telecom": [{"system": "email", "value": "not-an-address"}]},
            [("business-rule", ["Patient.telecom.where(system='email')"])],
        ),
        ({"active": False}, [("business-rule", ["Patient.active"])]),
        (
            {"modifierExtension": [{"url": "https://example.org/x", "valueBoolean": True}]},
            [("not-supported", ["Patient.modifierExtension"])],
        ),
    ],
)
def test_a_patient_breaking_our_rules_is_422_naming_the_element(world, changes, expected):
    if changes.get("birthDate") == "{tomorrow}":
        changes["birthDate"] = (timezone.now().date() + dt.timedelta(days=2)).isoformat()
    expected = [
        ("error", code, [e.format(extension=codes.patient_condition_extension()) for e in where])
        for code, where in expected
    ]
    assert issues(send(world.key1, "post", "Patient", new_patient(**changes)), 422) == expected
    assert not Patient.objects.filter(last_name="Brown").exists()


def test_several_faults_are_each_named(world):
    body = new_patient(name=[{"use": "official"}], active=False)
    assert issues(send(world.key1, "post", "Patient", body), 422) == [
        ("error", "required", ["Patient.name[0].family"]),
        ("error", "required", ["Patient.name[0].given"]),
        ("error", "business-rule", ["Patient.active"]),
    ]


def test_update_refusing_our_id_changing_or_the_sms_phone_removed(world):
    b = world.patient_b
    services.patient_update(
        patient=b, actor=None, phone="07700 900000", reminder_channel=Patient.Channel.SMS
    )
    body = new_patient(id=str(b.pk), telecom=[])
    assert issues(send(world.key1, "put", f"Patient/{b.pk}", body), 422) == [
        ("error", "business-rule", ["Patient.telecom.where(system='phone')"])
    ]
    body = new_patient(
        id=str(b.pk),
        identifier=[{"system": codes.patient_id_system(), "value": str(world.patient_a.pk)}],
    )
    assert issues(send(world.key1, "put", f"Patient/{b.pk}", body), 422) == [
        ("error", "business-rule", ["Patient.identifier"])
    ]


# --- the CapabilityStatement and the queries --------------------------------------------------


def test_the_capability_statement_declares_patient_writes(world):
    statement = fhir_json(world.anonymous.get("/fhir/r4/metadata"))
    [patient] = [r for r in statement["rest"][0]["resource"] if r["type"] == "Patient"]
    assert [i["code"] for i in patient["interaction"]] == [
        "read",
        "search-type",
        "create",
        "update",
    ]
    assert patient["conditionalCreate"] is True
    assert patient["conditionalUpdate"] is True
    assert patient["updateCreate"] is False
    assert patient["versioning"] == "no-version"
    assert codes.patient_condition_extension() in patient["documentation"]
    assert "ignored" in patient["documentation"]
    others = [r for r in statement["rest"][0]["resource"] if r["type"] != "Patient"]
    assert all("conditionalUpdate" not in r for r in others)


def queries(client, method: str, url: str, body) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = send(client, method, url, body)
    return len(captured), response


# The key's look-up, then the service: a savepoint pair for its transaction and one for the
# uniqueness check's, the clinic's existence (the row's check of its foreign key), the record
# number's uniqueness, the insert, the audit event. Nothing per element.
CREATE_QUERIES = 9
# The key, the patient by id, then the service as for a create, an update for the insert.
UPDATE_QUERIES = 10
# The key, the patients the identifier matches (two at most), then the same service.
CONDITIONAL_UPDATE_QUERIES = 10


def test_queries_of_create_and_updates_are_pinned(world):
    world.key1.get("/fhir/r4/metadata")
    world.key1.get("/fhir/r4/Patient?_count=1")  # the key's last use written
    count, response = queries(world.key1, "post", "Patient", new_patient())
    created = fhir_json(response, 201)
    assert count == CREATE_QUERIES
    body = {**created, "birthDate": "1958-03-10"}
    count, response = queries(world.key1, "put", f"Patient/{created['id']}", body)
    fhir_json(response)
    assert count == UPDATE_QUERIES
    body["birthDate"] = "1958-03-11"
    count, response = queries(world.key1, "put", by_identifier("MRN-500"), body)
    fhir_json(response)
    assert count == CONDITIONAL_UPDATE_QUERIES


def test_a_record_number_two_requests_create_at_once_is_a_409(world, monkeypatch):
    def lost_race(**kwargs):
        # What the constraint answers when two creates of one record number pass its check at
        # once: the second insert fails.
        raise IntegrityError("patient_external_id_unique_per_clinic")

    monkeypatch.setattr(write.services, "patient_create", lost_race)
    response = send(world.key1, "put", by_identifier("MRN-500"), new_patient())
    assert issues(response, 409) == [("error", "conflict", ["Patient.identifier"])]


def test_a_body_over_the_upload_limit_is_a_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    body = new_patient(name=[{"family": "B" * 100, "given": ["C" * 100]}])
    outcome(send(world.key1, "post", "Patient", body), 413, "too-costly")


def test_queries_of_a_clinicians_writes_are_pinned(world, clinician):
    # Instead of the key: the session, the user and their Clinician row (the principal).
    count, response = queries(clinician, "post", "Patient", new_patient())
    created = fhir_json(response, 201)
    assert count == CREATE_QUERIES + 2
    body = {**created, "birthDate": "1958-03-10"}
    count, response = queries(clinician, "put", by_identifier("MRN-500"), body)
    fhir_json(response)
    assert count == CONDITIONAL_UPDATE_QUERIES + 2
