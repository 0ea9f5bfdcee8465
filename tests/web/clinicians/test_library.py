"""The protocol library pages: listing, detail, copying a protocol and editing a clinic's copy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rehab import services
from rehab.clinical import levels as L
from rehab.clinical import protocols as clinical_protocols
from rehab.clinical.progression import ProgressionSettings
from rehab.models import AuditEvent, Protocol
from tests.factories import (
    TODAY,
    ClinicFactory,
    ClinicianFactory,
    PatientFactory,
    UserFactory,
    builtin_protocol,
    clean_answers,
)

pytestmark = pytest.mark.django_db

LEVEL_FIELDS = [
    "name",
    "minutes",
    "sessions_per_week",
    "speed_kmh",
    "incline_pct",
    "setting",
    "min_days",
    "interval_backward_seconds",
    "interval_forward_seconds",
    "note",
]


@pytest.fixture
def knee(db):
    return builtin_protocol(L.KNEE_OA)


@pytest.fixture
def own_copy(knee, clinic, clinician):
    return services.protocol_copy(
        protocol=knee, clinic=clinic, actor=clinician.user, name="Riverside knee"
    )


@pytest.fixture
def foreign_copy(knee):
    other = ClinicFactory(name="Elsewhere Physio")
    return services.protocol_copy(protocol=knee, clinic=other, actor=None, name="Elsewhere knee")


def edit_data(protocol: Protocol, *, extra_blank: bool = True, **overrides) -> dict:
    """The edit form as a browser would send it unchanged, with `overrides` on top
    (keys like "levels-0-minutes")."""
    rows = list(protocol.levels.all())
    data = {
        "name": protocol.name,
        "summary": protocol.summary,
        "levels-TOTAL_FORMS": str(len(rows) + (1 if extra_blank else 0)),
        "levels-INITIAL_FORMS": str(len(rows)),
        "levels-MIN_NUM_FORMS": "0",
        "levels-MAX_NUM_FORMS": "40",
    }
    for i, row in enumerate(rows):
        for field in LEVEL_FIELDS:
            value = getattr(row, field)
            data[f"levels-{i}-{field}"] = "" if value is None else str(value)
        if row.supervised:
            data[f"levels-{i}-supervised"] = "on"
        data[f"levels-{i}-ORDER"] = str(i + 1)
    if extra_blank:
        data[f"levels-{len(rows)}-incline_pct"] = "0"
    for name, value in (
        ProgressionSettings.from_dict(protocol.progression_settings).to_dict().items()
    ):
        data[f"thresholds-{name}"] = str(value)
    data.update(overrides)
    return data


def edit_url(protocol: Protocol) -> str:
    return reverse("clinicians:protocol_edit", args=[protocol.pk])


# --- Who may see what ----------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in_from_every_library_page(client, knee):
    for url in (
        reverse("clinicians:protocols"),
        reverse("clinicians:protocol", args=[knee.pk]),
        reverse("clinicians:protocol_copy", args=[knee.pk]),
        edit_url(knee),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("clinicians:login"))


def test_patient_user_is_sent_to_the_portal(client, clinic, knee):
    patient = PatientFactory(clinic=clinic, user=UserFactory())
    client.force_login(patient.user)
    for url in (reverse("clinicians:protocols"), reverse("clinicians:protocol", args=[knee.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("patients:today")


def test_library_lists_builtins_and_own_copies_but_not_other_clinics_copies(
    dashboard, own_copy, foreign_copy
):
    response = dashboard.get(reverse("clinicians:protocols"))
    assert response.status_code == 200
    body = response.content.decode()
    for definition in clinical_protocols.LIBRARY:
        assert definition.name in body
    assert "Riverside knee" in body
    assert f"based on {own_copy.based_on.name}, version 1" in body
    assert "Elsewhere knee" not in body
    # Grouped under each condition's heading, in plain words.
    assert f">{L.CONDITIONS[L.KNEE_OA]}</h2>" in body
    assert f">{L.CONDITIONS[L.CHRONIC_LOW_BACK_PAIN]}</h2>" in body


def test_library_shows_each_protocols_number_of_levels(dashboard, knee):
    body = dashboard.get(reverse("clinicians:protocols")).content.decode()
    assert f'<td class="num">{knee.levels.count()}</td>' in body


def test_another_clinics_copy_is_not_found_on_every_protocol_page(dashboard, foreign_copy):
    assert dashboard.get(reverse("clinicians:protocol", args=[foreign_copy.pk])).status_code == 404
    assert dashboard.get(edit_url(foreign_copy)).status_code == 404
    response = dashboard.post(reverse("clinicians:protocol_copy", args=[foreign_copy.pk]))
    assert response.status_code == 404
    response = dashboard.post(edit_url(foreign_copy), edit_data(foreign_copy, name="Mine now"))
    assert response.status_code == 404
    foreign_copy.refresh_from_db()
    assert foreign_copy.name == "Elsewhere knee"
    assert not Protocol.objects.filter(clinic__name="Riverside Physiotherapy").exists()


# --- Detail --------------------------------------------------------------------------------------


def test_detail_shows_levels_safety_citations_and_effective_thresholds(dashboard, knee):
    first = knee.levels.first()
    knee.progression_settings = {"pause_pain": 7}
    knee.save()
    response = dashboard.get(reverse("clinicians:protocol", args=[knee.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert first.name in body
    assert L.SETTINGS[first.setting] in body
    assert knee.citations[0]["text"] in body
    # Treadmill levels bring the treadmill instructions, the general ones always come.
    assert "Clip on the treadmill&#x27;s safety key before you start." in body
    assert "Look straight ahead." in body
    # The thresholds in force: the override, and every default filled in.
    assert "Pause the plan when any pain score reaches (0-10)</th>" in body
    assert '<td class="num">7</td>' in body
    assert "Changed</span> default 8" in body
    assert "0.8 (80 %)" in body
    assert "Knee injury and Osteoarthritis Outcome Score (KOOS)" in body
    assert "At week 6" in body
    assert "Built-in: read-only" in body
    assert edit_url(knee) not in body


def test_comfortable_speed_is_said_in_words(dashboard, own_copy):
    level = own_copy.levels.first()
    level.speed_kmh = None
    level.save()
    body = dashboard.get(reverse("clinicians:protocol", args=[own_copy.pk])).content.decode()
    assert "Own comfortable speed" in body


def test_own_copy_detail_offers_edit(dashboard, own_copy):
    body = dashboard.get(reverse("clinicians:protocol", args=[own_copy.pk])).content.decode()
    assert edit_url(own_copy) in body
    assert "Your clinic's copy" in body


# --- Copy ----------------------------------------------------------------------------------------


def test_copy_creates_the_clinics_copy_and_opens_its_edit_page(dashboard, clinic, knee):
    response = dashboard.post(
        reverse("clinicians:protocol_copy", args=[knee.pk]), {"name": "Our knee plan"}
    )
    copy = Protocol.objects.get(clinic=clinic)
    assert response.status_code == 302
    assert response["Location"] == edit_url(copy)
    assert copy.name == "Our knee plan"
    assert copy.based_on == knee
    assert copy.levels.count() == knee.levels.count()
    assert AuditEvent.objects.filter(action="protocol.copy", object_id=str(copy.pk)).exists()


def test_copy_without_a_name_uses_the_protocol_and_clinic_names(dashboard, clinic, knee):
    dashboard.post(reverse("clinicians:protocol_copy", args=[knee.pk]), {"name": ""})
    assert Protocol.objects.get(clinic=clinic).name == f"{knee.name} (Riverside Physiotherapy)"


def test_copy_with_a_too_long_name_keeps_the_input_with_400(dashboard, clinic, knee):
    name = "x" * 201
    response = dashboard.post(reverse("clinicians:protocol_copy", args=[knee.pk]), {"name": name})
    assert response.status_code == 400
    assert f'value="{name}"' in response.content.decode()
    assert not Protocol.objects.filter(clinic=clinic).exists()


def test_copy_needs_a_post(dashboard, knee):
    assert dashboard.get(reverse("clinicians:protocol_copy", args=[knee.pk])).status_code == 405


# --- Edit ----------------------------------------------------------------------------------------


def test_editing_a_builtin_is_refused_and_changes_nothing(dashboard, knee):
    assert dashboard.get(edit_url(knee)).status_code == 403
    response = dashboard.post(edit_url(knee), edit_data(knee, name="Hijacked"))
    assert response.status_code == 403
    knee.refresh_from_db()
    assert knee.name != "Hijacked"
    assert knee.version == 1


def test_edit_page_shows_every_level_with_its_values(dashboard, own_copy):
    response = dashboard.get(edit_url(own_copy))
    assert response.status_code == 200
    body = response.content.decode()
    rows = list(own_copy.levels.all())
    assert f'name="levels-INITIAL_FORMS" value="{len(rows)}"' in body
    assert f'value="{rows[-1].name}"' in body
    assert "Plans already assigned are not changed." in body


def test_editing_levels_bumps_the_version_and_keeps_a_live_plans_snapshot(
    dashboard, clinic, clinician, own_copy
):
    patient = PatientFactory(clinic=clinic)
    services.screening_submit(
        patient=patient, answers=clean_answers(patient.condition), actor=None, today=TODAY
    )
    plan = services.plan_assign(
        patient=patient, protocol=own_copy, actor=clinician.user, start_date=TODAY, today=TODAY
    )
    snapshot = list(plan.levels)

    response = dashboard.post(edit_url(own_copy), edit_data(own_copy, **{"levels-0-minutes": "12"}))

    assert response.status_code == 302
    assert response["Location"] == reverse("clinicians:protocol", args=[own_copy.pk])
    own_copy.refresh_from_db()
    assert own_copy.version == 2
    assert own_copy.levels.first().minutes == 12
    plan.refresh_from_db()
    assert plan.levels == snapshot
    assert plan.protocol_version == 1
    assert AuditEvent.objects.filter(action="protocol.update", object_id=str(own_copy.pk)).exists()


def test_renaming_only_keeps_the_version(dashboard, own_copy):
    response = dashboard.post(edit_url(own_copy), edit_data(own_copy, name="Renamed"))
    assert response.status_code == 302
    own_copy.refresh_from_db()
    assert own_copy.name == "Renamed"
    assert own_copy.version == 1


def test_a_filled_in_new_level_is_added_at_its_position(dashboard, own_copy):
    count = own_copy.levels.count()
    data = edit_data(
        own_copy,
        **{
            f"levels-{count}-name": "Warm-up",
            f"levels-{count}-minutes": "5",
            f"levels-{count}-sessions_per_week": "3",
            f"levels-{count}-incline_pct": "0",
            f"levels-{count}-setting": L.PARALLEL_BARS,
            f"levels-{count}-min_days": "2",
            f"levels-{count}-supervised": "on",
            f"levels-{count}-ORDER": "0",
        },
    )
    response = dashboard.post(edit_url(own_copy), data)
    assert response.status_code == 302
    levels = list(own_copy.levels.all())
    assert len(levels) == count + 1
    assert levels[0].name == "Warm-up"
    assert levels[0].speed_kmh is None
    assert levels[0].supervised is True


def test_removing_and_reordering_levels(dashboard, own_copy):
    names = list(own_copy.levels.values_list("name", flat=True))
    data = edit_data(
        own_copy, **{"levels-0-DELETE": "on", "levels-1-ORDER": "99", "levels-2-ORDER": "1"}
    )
    assert dashboard.post(edit_url(own_copy), data).status_code == 302
    now = list(own_copy.levels.values_list("name", flat=True))
    assert len(now) == len(names) - 1
    assert names[0] not in now
    assert now[0] == names[2]
    assert now[-1] == names[1]


def test_an_interval_needs_both_times(dashboard, own_copy):
    data = edit_data(own_copy, **{"levels-1-interval_backward_seconds": "30"})
    response = dashboard.post(edit_url(own_copy), data)
    assert response.status_code == 400
    assert "Give both interval times, or leave both empty." in response.content.decode()


def test_an_interval_is_saved_as_a_pair(dashboard, own_copy):
    data = edit_data(
        own_copy,
        **{
            "levels-1-interval_backward_seconds": "30",
            "levels-1-interval_forward_seconds": "90",
        },
    )
    assert dashboard.post(edit_url(own_copy), data).status_code == 302
    level = own_copy.levels.all()[1].to_level()
    assert level.interval == L.Interval(30, 90)


def test_bad_level_values_show_field_errors_keep_every_input_and_save_nothing(dashboard, own_copy):
    data = edit_data(
        own_copy,
        name="Typed but not saved",
        **{
            "levels-0-minutes": "500",
            "levels-1-speed_kmh": "fast",
            "levels-2-name": "Kept name",
            "levels-3-setting": "trampoline",
        },
    )
    response = dashboard.post(edit_url(own_copy), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_levels-0-minutes_error"' in body
    assert 'id="id_levels-1-speed_kmh_error"' in body
    assert 'id="id_levels-3-setting_error"' in body
    assert 'value="500"' in body
    assert 'value="fast"' in body
    assert 'value="Kept name"' in body
    assert 'value="Typed but not saved"' in body
    assert "Nothing was saved." in body
    own_copy.refresh_from_db()
    assert own_copy.version == 1
    assert own_copy.name == "Riverside knee"


def test_a_service_refusal_lands_on_the_level_it_is_about_even_after_reordering(
    dashboard, own_copy
):
    # The service numbers levels as sent; the first form, moved to the end, is the last sent.
    data = edit_data(
        own_copy,
        **{
            "levels-0-ORDER": "99",
            "levels-0-interval_backward_seconds": "0",
            "levels-0-interval_forward_seconds": "0",
        },
    )
    response = dashboard.post(edit_url(own_copy), data)
    assert response.status_code == 400
    body = response.content.decode()
    error = body.index('id="id_levels-0-interval_backward_seconds_error"')
    assert "Interval times must be positive." in body[error : error + 200]
    own_copy.refresh_from_db()
    assert own_copy.version == 1


def test_a_tampered_form_is_a_400_not_a_500(dashboard, own_copy):
    data = edit_data(own_copy)
    del data["levels-TOTAL_FORMS"]
    response = dashboard.post(edit_url(own_copy), data)
    assert response.status_code == 400
    own_copy.refresh_from_db()
    assert own_copy.version == 1


def test_removing_every_level_is_refused_by_the_service_with_400(dashboard, own_copy):
    count = own_copy.levels.count()
    data = edit_data(own_copy, **{f"levels-{i}-DELETE": "on" for i in range(count)})
    response = dashboard.post(edit_url(own_copy), data)
    assert response.status_code == 400
    assert "A protocol needs at least one level." in response.content.decode()
    assert own_copy.levels.count() == count


def test_an_empty_name_is_a_field_error(dashboard, own_copy):
    response = dashboard.post(edit_url(own_copy), edit_data(own_copy, name=""))
    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode()


def test_thresholds_are_saved_as_overrides_of_the_defaults(dashboard, own_copy):
    data = edit_data(own_copy, **{"thresholds-pause_pain": "7"})
    assert dashboard.post(edit_url(own_copy), data).status_code == 302
    own_copy.refresh_from_db()
    assert own_copy.progression_settings == {"pause_pain": 7}


def test_a_threshold_out_of_range_is_a_field_error_with_400(dashboard, own_copy):
    data = edit_data(own_copy, **{"thresholds-hold_adherence_ratio": "1.5"})
    response = dashboard.post(edit_url(own_copy), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_thresholds-hold_adherence_ratio_error"' in body
    assert 'value="1.5"' in body
    own_copy.refresh_from_db()
    assert own_copy.progression_settings == {}


def test_add_level_button_shows_one_more_empty_row_and_saves_nothing(dashboard, own_copy):
    data = edit_data(own_copy, name="Not yet", add_level="1")
    response = dashboard.post(edit_url(own_copy), data)
    assert response.status_code == 200
    count = own_copy.levels.count()
    assert f'name="levels-TOTAL_FORMS" value="{count + 2}"' in response.content.decode()
    own_copy.refresh_from_db()
    assert own_copy.name == "Riverside knee"


# --- Query counts --------------------------------------------------------------------------------


def test_library_list_costs_the_same_queries_for_few_or_many_protocols(
    dashboard, clinic, clinician, knee, django_assert_num_queries
):
    url = reverse("clinicians:protocols")
    dashboard.get(url)
    # session, user, clinician with clinic, the library with level counts
    with django_assert_num_queries(4):
        dashboard.get(url)
    for n in range(5):
        services.protocol_copy(protocol=knee, clinic=clinic, actor=None, name=f"Copy {n}")
    with django_assert_num_queries(4):
        assert "Copy 4" in dashboard.get(url).content.decode()


def test_protocol_detail_query_count(dashboard, own_copy, django_assert_num_queries):
    url = reverse("clinicians:protocol", args=[own_copy.pk])
    dashboard.get(url)  # the first request after signing in also saves the session
    # session, user, clinician with clinic, the protocol with its source, its levels
    with django_assert_num_queries(5):
        assert dashboard.get(url).status_code == 200


def test_detail_works_for_another_clinician_of_the_same_clinic(client, clinic, own_copy):
    colleague = ClinicianFactory(clinic=clinic)
    client.force_login(colleague.user)
    assert client.get(edit_url(own_copy)).status_code == 200
