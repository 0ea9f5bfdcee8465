"""The audit trail's hash chain: sealing, verification (edits, deletions, insertions, moves),
export and prune with an anchor, and concurrent sealers on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.utils import timezone

from rehab import audit_chain
from rehab.audit import AuditAction, audit_reads, audit_record
from rehab.models import AuditChain, AuditEvent, AuditListing
from tests.factories import ClinicFactory, PatientFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def events(clinic, n, *, start=None, action="patient.read"):
    patient = PatientFactory(clinic=clinic)
    made = []
    for i in range(n):
        event = audit_record(actor=None, action=action, patient=patient, detail={"n": i})
        if start is not None:
            AuditEvent.objects.filter(pk=event.pk).update(at=start + dt.timedelta(minutes=i))
        made.append(event)
    return made


def verify(**kwargs) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("audit_verify", stdout=out, **kwargs)
    except CommandError:
        return 1, out.getvalue()
    return 0, out.getvalue()


def row(clinic, seq) -> AuditEvent:
    return AuditEvent.objects.get(clinic=clinic, chain_seq=seq)


@pytest.fixture
def two_clinics(db):
    a, b = ClinicFactory(), ClinicFactory()
    events(a, 5)
    events(b, 3)
    call_command("audit_seal", stdout=io.StringIO())
    return a, b


def test_an_audit_record_costs_one_insert_on_the_request_path(db, django_assert_num_queries):
    patient = PatientFactory()
    with django_assert_num_queries(1):
        event = audit_record(actor=None, action="patient.read", patient=patient)
    assert (event.chain_seq, event.chain_hash) == (None, "")


def test_sealing_chains_each_clinic_in_order_and_the_trail_verifies(two_clinics):
    a, b = two_clinics
    for clinic, n in ((a, 5), (b, 3)):
        rows = AuditEvent.objects.filter(clinic=clinic).order_by("chain_seq")
        assert [r.chain_seq for r in rows] == list(range(1, n + 1))
        assert list(rows.values_list("id", flat=True)) == sorted(rows.values_list("id", flat=True))
        chain = AuditChain.objects.get(clinic_ref=clinic.pk)
        assert (chain.head_seq, chain.head_hash) == (n, rows.last().chain_hash)
    status, out = verify()
    assert status == 0, out
    assert "5 events verified through place 5" in out
    assert "The audit trail verifies (2 chains)." in out


def test_events_committed_after_a_seal_are_chained_by_the_next(two_clinics):
    a, _ = two_clinics
    events(a, 2)
    assert audit_chain.audit_seal() == 2
    assert sorted(AuditEvent.objects.filter(clinic=a).values_list("chain_seq", flat=True)) == list(
        range(1, 8)
    )
    assert verify()[0] == 0


def test_an_edited_event_is_the_first_broken_link(two_clinics):
    a, b = two_clinics
    edited = row(a, 3)
    AuditEvent.objects.filter(pk=edited.pk).update(action="patient.update")
    status, out = verify()
    assert status == 1
    assert f"BROKEN chain {a.pk}" in out
    assert f"place 3 (event {edited.pk}): the hash does not match" in out
    assert f"ok chain {b.pk}" in out  # the other clinic's chain is untouched


def test_an_edit_of_the_detail_or_the_time_is_found_too(two_clinics):
    a, _ = two_clinics
    AuditEvent.objects.filter(pk=row(a, 2).pk).update(detail={"n": 99})
    AuditEvent.objects.filter(pk=row(a, 4).pk).update(at=NOW - dt.timedelta(days=3))
    assert f"place 2 (event {row(a, 2).pk})" in verify()[1]


def test_a_deleted_event_is_reported_as_a_missing_place(two_clinics):
    a, _ = two_clinics
    nxt = row(a, 3)
    row(a, 2).delete()
    status, out = verify()
    assert status == 1
    assert f"place 2 missing before event {nxt.pk}: deleted" in out


def test_deleting_the_last_events_is_found_against_the_head(two_clinics):
    a, _ = two_clinics
    AuditEvent.objects.filter(clinic=a, chain_seq__gte=4).delete()
    assert "places 4-5 missing at the end of the chain" in verify()[1]


def test_two_events_swapped_break_at_the_first_of_them(two_clinics):
    a, _ = two_clinics
    second, third = row(a, 2), row(a, 3)
    AuditEvent.objects.filter(pk=second.pk).update(chain_seq=-1)
    AuditEvent.objects.filter(pk=third.pk).update(chain_seq=2)
    AuditEvent.objects.filter(pk=second.pk).update(chain_seq=3)
    status, out = verify()
    assert status == 1
    assert f"place 2 (event {third.pk}): the hash does not match" in out


def test_an_event_inserted_past_the_head_even_with_a_correct_hash_is_found(two_clinics):
    a, _ = two_clinics
    chain = AuditChain.objects.get(clinic_ref=a.pk)
    forged = AuditEvent(
        clinic=a, actor_label="mallory", action="patient.read", chain=chain, chain_seq=6
    )
    forged.save()
    forged.chain_hash = audit_chain.event_hash(
        AuditEvent.objects.get(pk=forged.pk), a.pk, chain.head_hash
    )
    forged.save()
    assert "place 6 is past the chain's head 5: inserted" in verify()[1]


def test_an_unsealed_event_is_suspicious_only_after_the_grace_period(two_clinics):
    a, _ = two_clinics
    (late,) = events(a, 1)
    assert verify()[0] == 0  # new: the sealer will get to it
    AuditEvent.objects.filter(pk=late.pk).update(at=NOW - dt.timedelta(hours=1))
    status, out = verify(grace_minutes=10)
    assert status == 1
    assert (
        f"SUSPICIOUS: 1 events older than the grace period are not sealed (oldest: event {late.pk}"
        in out
    )


# --- Export and prune ---------------------------------------------------------------------------


@pytest.fixture
def aged(db, settings):
    """A clinic with 10 events a year old and 3 from today, all sealed."""
    settings.AUDIT_RETENTION_DAYS = 180
    clinic = ClinicFactory()
    events(clinic, 10, start=NOW - dt.timedelta(days=365))
    events(clinic, 3)
    audit_chain.audit_seal()
    return clinic


def export(before: str, tmp_path) -> list[dict]:
    target = tmp_path / f"audit-{before}.jsonl"
    call_command("audit_export", before=before, output=str(target), stderr=io.StringIO())
    return [json.loads(line) for line in target.read_text().splitlines()]


def test_export_writes_the_events_before_the_date_as_json_lines_with_their_hashes(aged, tmp_path):
    before = (NOW - dt.timedelta(days=30)).date().isoformat()
    lines = export(before, tmp_path)
    assert [line["seq"] for line in lines] == list(range(1, 11))
    assert {line["clinic"] for line in lines} == {aged.pk}
    first = AuditEvent.objects.get(pk=lines[0]["id"])
    assert lines[0]["hash"] == first.chain_hash
    assert lines[0]["detail"] == {"n": 0}
    assert AuditEvent.objects.filter(exported_at__isnull=False).count() == 10
    # The export of the trail is itself recorded.
    assert AuditEvent.objects.filter(action="audit.export", clinic=aged).exists()


def test_export_to_stdout(aged, capsys):
    call_command("audit_export", before="2000-01-01")
    assert capsys.readouterr().out == ""
    before = (NOW + dt.timedelta(days=1)).date().isoformat()
    call_command("audit_export", before=before)
    assert len(capsys.readouterr().out.splitlines()) == 13


def test_export_refuses_a_date_that_is_not_one(aged):
    with pytest.raises(CommandError, match="not a date"):
        call_command("audit_export", before="last year")


def test_prune_removes_only_exported_sealed_events_older_than_the_policy_and_still_verifies(
    aged, tmp_path
):
    before = (NOW + dt.timedelta(days=1)).date().isoformat()
    # Nothing exported yet: nothing goes.
    call_command("audit_prune", before=before, stdout=io.StringIO())
    assert AuditEvent.objects.filter(clinic=aged, action="patient.read").count() == 13
    export(before, tmp_path)  # all 13, today's too
    out = io.StringIO()
    call_command("audit_prune", before=before, stdout=out)
    # Today's three are younger than the 180 days the policy keeps.
    left = AuditEvent.objects.filter(clinic=aged, action="patient.read")
    assert sorted(left.values_list("chain_seq", flat=True)) == [11, 12, 13]
    assert f"chain {aged.pk}: removed 10 events through place 10" in out.getvalue()
    chain = AuditChain.objects.get(clinic_ref=aged.pk)
    assert chain.anchor_seq == 10
    prune = AuditEvent.objects.get(action="audit.prune")
    assert prune.detail["events"] == 10
    assert prune.detail["through_seq"] == 10
    assert prune.detail["anchor_hash"] == chain.anchor_hash
    audit_chain.audit_seal()
    status, text = verify()
    assert status == 0, text


def test_a_list_read_is_sealed_exported_and_pruned_with_the_patients_it_names(
    db, settings, tmp_path
):
    """One event for a page of patients: the chain covers the names (in its detail), the export
    carries them, and the prune takes its listing rows with it."""
    settings.AUDIT_RETENTION_DAYS = 180
    clinic = ClinicFactory()
    shown = [PatientFactory(clinic=clinic) for _ in range(3)]
    audit_reads(actor=None, action=AuditAction.PATIENT_LIST, patients=shown, clinic=clinic)
    listed = AuditEvent.objects.get(action="patient.list")
    AuditEvent.objects.filter(pk=listed.pk).update(at=NOW - dt.timedelta(days=300))
    assert AuditListing.objects.filter(event=listed).count() == 3
    audit_chain.audit_seal()
    before = (NOW - dt.timedelta(days=30)).date().isoformat()
    [line] = export(before, tmp_path)
    assert (line["id"], line["patient"]) == (listed.pk, None)
    assert line["detail"] == {"patients": [p.pk for p in shown]}
    call_command("audit_prune", before=before, stdout=io.StringIO())
    assert not AuditEvent.objects.filter(pk=listed.pk).exists()
    assert not AuditListing.objects.exists()
    status, text = verify()
    assert status == 0, text


def test_prune_stops_at_the_first_event_not_exported(aged, tmp_path):
    export((NOW + dt.timedelta(days=1)).date().isoformat(), tmp_path)
    AuditEvent.objects.filter(clinic=aged, chain_seq=4).update(exported_at=None)
    call_command(
        "audit_prune", before=(NOW + dt.timedelta(days=1)).date().isoformat(), stdout=io.StringIO()
    )
    assert AuditChain.objects.get(clinic_ref=aged.pk).anchor_seq == 3
    assert verify()[0] == 0


def test_an_event_put_back_before_the_anchor_is_found(aged, tmp_path):
    export((NOW + dt.timedelta(days=1)).date().isoformat(), tmp_path)
    call_command("audit_prune", before="2100-01-01", stdout=io.StringIO())
    chain = AuditChain.objects.get(clinic_ref=aged.pk)
    AuditEvent.objects.create(
        clinic=aged, actor_label="x", action="patient.read", chain=chain, chain_seq=5
    )
    assert "has place 5, at or before the prune anchor 10: it was inserted" in verify()[1]


def test_without_a_retention_policy_prune_refuses_and_the_daily_job_does_nothing(
    aged, settings, tmp_path
):
    settings.AUDIT_RETENTION_DAYS = None
    export("2100-01-01", tmp_path)
    with pytest.raises(CommandError, match="AUDIT_RETENTION_DAYS is not set"):
        call_command("audit_prune", before="2100-01-01")
    assert audit_chain.audit_retention() == []
    assert AuditEvent.objects.filter(clinic=aged, action="patient.read").count() == 13


def test_the_daily_retention_job_prunes_what_the_policy_allows(aged, tmp_path):
    from rehab import tasks

    export("2100-01-01", tmp_path)
    assert tasks.audit_retention.delay().get() == 10
    assert tasks.audit_seal.delay().get() >= 1  # the prune's own event
    assert verify()[0] == 0


def test_beat_seals_every_minute_and_runs_retention_daily(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["audit-seal"]["task"] == "rehab.tasks.audit_seal"
    assert schedule["audit-seal"]["schedule"] == 60.0
    assert schedule["audit-retention"]["task"] == "rehab.tasks.audit_retention"


# --- Two sealers at once (PostgreSQL: SQLite has no row locks to test) --------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sealers_at_once_never_fork_a_chain():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    clinics = [ClinicFactory(), ClinicFactory()]
    for clinic in clinics:
        events(clinic, 300)
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def seal(batch_size):
        try:
            start.wait()
            for _ in range(5):
                audit_chain.audit_seal(batch_size=batch_size)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    def write_more():
        try:
            start.wait()
            for clinic in clinics:
                events(clinic, 50)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    # Different batch sizes: without the lock, the two would give different events the same
    # place (or one event two places), which the constraint or audit_verify would catch.
    threads = [threading.Thread(target=seal, args=(n,)) for n in (37, 50)]
    threads.append(threading.Thread(target=write_more))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    audit_chain.audit_seal()
    for clinic in clinics:
        places = list(
            AuditEvent.objects.filter(clinic=clinic)
            .order_by("chain_seq")
            .values_list("chain_seq", flat=True)
        )
        assert places == list(range(1, 351))
    result = audit_chain.audit_verify()
    assert result.ok, [c.broken for c in result.chains]
