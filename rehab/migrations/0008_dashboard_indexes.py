"""Indexes for the clinician's Today list (rehab.selectors, "Dashboard: Today").

The list sorts a whole clinic by need on every request: it looks up each patient's open plan and
unsettled sessions, and reads the clinic's valid screenings. These let each of them read an
index alone instead of the table rows (a plan row carries its levels, a screening its answers):

- the open plan of a patient with what the adherence count needs (start, schedule days);
- the sessions whose next-morning pain did not settle, the only ones that flag;
- the clinic's screenings by invalidation and validity, with their patient.

Plain SQL, the same on SQLite and PostgreSQL, rather than Meta.indexes: two are partial, one
with a condition comparing two columns, and the models' state stays as it is.
"""

from django.db import migrations

INDEXES = {
    "dashboard_plan_open_idx": (
        "rehab_plan (patient_id, status, start_date, schedule_days) "
        "WHERE status IN ('active', 'paused')"
    ),
    "dashboard_session_unsettled_idx": (
        "rehab_sessionlog (plan_id, date) WHERE pain_next_morning > pain_before"
    ),
    "dashboard_screening_valid_idx": (
        "rehab_screening (clinic_id, invalidated_at, valid_until, screened_on, patient_id)"
    ),
}


class Migration(migrations.Migration):
    dependencies = [("rehab", "0007_calendar_feed")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX {name} ON {definition}",
            reverse_sql=f"DROP INDEX {name}",
        )
        for name, definition in INDEXES.items()
    ]
