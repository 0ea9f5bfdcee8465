"""Protocols (protocol_library_load, protocol_copy, protocol_update): the built-in library
is loaded once and read-only; a clinic edits its own copies, level by level."""

import pytest

from rehab import services
from rehab.clinical import levels as L
from rehab.clinical import protocols as clinical_protocols
from rehab.errors import RehabError
from rehab.models import Protocol
from tests.factories import ClinicianFactory, builtin_protocol
from tests.services.conftest import LADDER

pytestmark = pytest.mark.django_db


def test_library_load_is_idempotent_and_complete(db):
    services.protocol_library_load()
    services.protocol_library_load()
    builtins = Protocol.objects.filter(clinic__isnull=True)
    assert builtins.count() == len(clinical_protocols.LIBRARY) == 5
    assert set(builtins.values_list("condition", flat=True)) == set(L.CONDITIONS)
    for protocol in builtins:
        definition = clinical_protocols.get(protocol.code)
        assert [row.to_level() for row in protocol.levels.all()] == list(definition.levels)
        assert protocol.version == 1
        assert protocol.citations


def test_library_load_bumps_the_version_of_a_changed_builtin(db):
    services.protocol_library_load()
    protocol = Protocol.objects.filter(clinic__isnull=True).first()
    protocol.levels.filter(position=0).update(minutes=99)
    services.protocol_library_load()
    protocol.refresh_from_db()
    assert protocol.version == 2
    assert protocol.levels.get(position=0).minutes != 99


def test_builtin_protocols_are_read_only(actor):
    with pytest.raises(RehabError) as exc:
        services.protocol_update(protocol=builtin_protocol(), actor=actor, name="Mine now")
    assert exc.value.code == "protocol_read_only"


def test_a_copy_belongs_to_the_clinic_and_can_be_edited(clinic, actor):
    source = builtin_protocol()
    copy = services.protocol_copy(protocol=source, clinic=clinic, actor=actor)
    assert copy.clinic == clinic
    assert copy.based_on == source
    assert copy.levels.count() == source.levels.count()
    services.protocol_update(
        protocol=copy, actor=actor, levels=LADDER, progression_settings={"regress_effort": 8}
    )
    copy.refresh_from_db()
    assert copy.version == 2
    assert copy.levels.count() == 4
    assert copy.progression_settings == {"regress_effort": 8}
    # The built-in is untouched.
    assert source.levels.count() == len(clinical_protocols.get(source.code).levels)


def test_two_copies_get_distinct_codes(clinic, actor):
    first = services.protocol_copy(
        protocol=builtin_protocol(), clinic=clinic, actor=actor, name="Mine"
    )
    second = services.protocol_copy(
        protocol=builtin_protocol(), clinic=clinic, actor=actor, name="Mine"
    )
    assert first.code != second.code


def test_another_clinic_cannot_copy_a_clinics_own_protocol(ladder):
    other = ClinicianFactory()
    with pytest.raises(RehabError) as exc:
        services.protocol_copy(protocol=ladder, clinic=other.clinic, actor=other.user)
    assert exc.value.code == "protocol_not_found"


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([], "levels"),
        ([{**LADDER[0], "minutes": 0}], "levels[0].minutes"),
        ([LADDER[0], {**LADDER[1], "setting": "trampoline"}], "levels[1].setting"),
        ([{**LADDER[0], "speed_kmh": 20}], "levels[0].speed_kmh"),
        ([{"name": "only a name"}], "levels[0]"),
    ],
)
def test_bad_level_edits_are_refused_with_field_errors_and_keep_the_old_levels(
    ladder, actor, levels, field
):
    with pytest.raises(RehabError) as exc:
        services.protocol_update(protocol=ladder, actor=actor, levels=levels)
    assert field in exc.value.fields
    assert ladder.levels.count() == len(LADDER)


def test_bad_progression_settings_are_refused(ladder, actor):
    with pytest.raises(RehabError) as exc:
        services.protocol_update(
            protocol=ladder, actor=actor, progression_settings={"pause_pain": 42}
        )
    assert "progression_settings" in exc.value.fields
