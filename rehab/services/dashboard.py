"""The Today list reads a stored need per patient: marking it stale and recomputing it."""

from __future__ import annotations

import datetime as dt
import functools

from django.db import connection
from django.db.models import F
from django.db.models.expressions import RawSQL

from rehab import selectors
from rehab.models import (
    Clinic,
    Patient,
)

# The clinician's Today list reads each patient's need (their flags as one integer, see
# rehab.selectors "Dashboard: Today") from Patient.dashboard_need rather than working the whole
# clinic out on every request. Two moves keep it exact:
# - every service that writes what a flag reads (a screening, a plan's status or level, a
#   session, its next-morning pain, a decision, archiving) marks the patient stale in its own
#   transaction (dashboard_mark_stale), so the mark commits or rolls back with the write; a write no
#   flag reads (contact details, reminders, auto-apply, outcome scores, invitations) marks
#   nothing, and a new patient is inserted stale. One exception: a session whose evaluation is
#   deferred (no safety signal) is marked by that evaluation, moments later in a worker, with
#   its decision. Alone, such a session can only clear a flag (a walk lifts non-adherence),
#   never raise one, so the wait never hides a signal;
# - the list first calls dashboard_refresh, which works out the stale patients again and, on a
#   new clinic-local day, everyone: the 7-day windows and a screening's expiry move with the
#   date alone.


def dashboard_mark_stale(patient_id: int) -> None:
    """One UPDATE by primary key. The version bump lets a refresh running meanwhile tell."""
    Patient.objects.filter(pk=patient_id).update(
        dashboard_day=None, dashboard_version=F("dashboard_version") + 1
    )


def dashboard_refresh(*, clinic: Clinic, today: dt.date) -> int:
    """Store the need, for the clinic-local day `today`, of the clinic's patients whose stored
    need is for another day or marked stale (selectors.dashboard_needs_live computes it, from
    the one definition of the flags). Returns how many patients were stored.

    One statement for 1 patient or 10,000: the stale patients' needs are computed once into a
    materialised CTE (found through the partial indexes on dashboard_day), then joined to the
    table by primary key. A row is written only while its dashboard_version is the one the CTE
    read: on PostgreSQL a write committed while the statement ran is not in what the CTE saw,
    but the UPDATE finds the newer row, with a bumped version, and leaves it stale for the next
    refresh. A row another transaction holds (a write, or another refresh: two clinicians
    opening the list first thing) is skipped, never waited for: it stays stale for the next
    refresh, and this request shows the need stored before.

    Not atomic-decorated: one statement is its own transaction (or part of the caller's). No
    audit event: it reads nothing out and changes no patient data, only what derives from it.
    """
    sql, params = _refresh_statement(connection.vendor, clinic.pk, today)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# Building the statement (the ORM compiling the flags' dozens of subqueries and cases) costs
# several times what running it costs when a handful of patients are stale, and Today runs it
# on every request. It is a function of the database, the clinic's id and the day alone (the
# flags' definition is code, their thresholds the rules' defaults), so each process builds it
# once per clinic and day. Bounded: a clinic group's clinics over a day or two.
@functools.lru_cache(maxsize=256)
def _refresh_statement(vendor: str, clinic_id: int, today: dt.date) -> tuple[str, tuple]:
    table = connection.ops.quote_name(Patient._meta.db_table)
    day = connection.ops.adapt_datefield_value(today)
    # On PostgreSQL the stale patients' rows are locked first, FOR UPDATE SKIP LOCKED: a row
    # another transaction holds is left stale for the next refresh rather than waited for. A
    # refresh that waited could deadlock with a write holding several patients' rows (the
    # nightly batch marks its patients in one UPDATE; two refreshes at once lock in their own
    # orders), and PostgreSQL would abort one side: a clinician's Today would fail. The lock
    # gives ids only: the versions compared below stay the ones `needs` read with the rows it
    # computed from (a locking read would give the newest row's, and a write committed since
    # the statement began would be stored over with a need that misses it). SQLite has one
    # writer at a time. (Written out: the ORM refuses to compile a locking read outside a
    # transaction, and the statement is built once, to run in whatever the caller has.)
    locked, lock_params = "", ()
    lock = connection.features.has_select_for_update_skip_locked
    needs = selectors.dashboard_needs_live(
        clinic=Clinic(pk=clinic_id), today=today, stale_only=not lock
    )
    if lock:
        pk, clinic_col, day_col = (
            connection.ops.quote_name(Patient._meta.get_field(name).column)
            for name in ("id", "clinic", "dashboard_day")
        )
        locked = (
            f"locked AS MATERIALIZED (SELECT {pk} FROM {table} WHERE {clinic_col} = %s"
            f" AND ({day_col} IS NULL OR {day_col} <> %s)"
            f" {connection.ops.for_update_sql(skip_locked=True, of=(table,))}), "
        )
        lock_params = (clinic_id, day)
        # The needs of the locked patients only, found in the CTE's few rows. Not the stale
        # patients again: where its row estimates are off (statistics not gathered yet after a
        # bulk load, say), PostgreSQL ran that three-range lookup once per patient of the
        # clinic, a nested loop that cost 150 ms a request at 500 patients under load.
        needs = needs.filter(pk__in=RawSQL(f"SELECT {pk} FROM locked", ()))
    select, params = needs.query.sql_with_params()
    # The CTE inside the FROM rather than before the UPDATE: a statement that starts with UPDATE
    # is one Python's sqlite3 reports the row count of.
    sql = (
        f"UPDATE {table} SET dashboard_need = stale.need, dashboard_day = %s "
        f"FROM (WITH {locked}needs (id, need, version) AS MATERIALIZED ({select}) "
        f"SELECT id, need, version FROM needs) AS stale "
        f"WHERE {table}.id = stale.id AND {table}.dashboard_version = stale.version"
    )
    return sql, (day, *lock_params, *params)
