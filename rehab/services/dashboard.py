"""The Today list reads a stored need per patient: marking it stale and recomputing it."""

from __future__ import annotations

import datetime as dt
import functools

from django.db import connection
from django.db.models import F

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
    refresh. Two refreshes at once (two clinicians opening the list first thing) compute alike;
    the second waits for the rows the first holds and then writes the same values.

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
    select, params = selectors.dashboard_needs_live(
        clinic=Clinic(pk=clinic_id), today=today, stale_only=True
    ).query.sql_with_params()
    table = connection.ops.quote_name(Patient._meta.db_table)
    # The CTE inside the FROM rather than before the UPDATE: a statement that starts with UPDATE
    # is one Python's sqlite3 reports the row count of.
    sql = (
        f"UPDATE {table} SET dashboard_need = stale.need, dashboard_day = %s "
        f"FROM (WITH needs (id, need, version) AS MATERIALIZED ({select}) "
        f"SELECT id, need, version FROM needs) AS stale "
        f"WHERE {table}.id = stale.id AND {table}.dashboard_version = stale.version"
    )
    return sql, (connection.ops.adapt_datefield_value(today), *params)
