"""The audit trail at millions of rows (issue 13).

- Two indexes that end at the row: a clinic's latest events (the API's cursor) and a patient's
  latest events (the patient page), each read from the top of an index instead of sorting every
  row; the second replaces the single-column index on patient_ref, its prefix.
- AuditListing: a read of several patients (a list) is one event naming them in
  detail["patients"]; a trigger on the event table writes one listing row per patient named, in
  the insert's own statement, so "who saw this patient" reads an index here too. A trigger rather
  than the application: the request still makes one query, and the listing is built from the
  very detail the hash chain seals. The trigger fires only for events that name patients, so
  every other insert costs a test of one JSON key.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRESQL = (
    """
    CREATE FUNCTION rehab_audit_listing() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO rehab_auditlisting (event_id, patient_ref, at)
        SELECT NEW.id, value::bigint, NEW.at
        FROM jsonb_array_elements_text(NEW.detail -> 'patients');
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER rehab_audit_listing AFTER INSERT ON rehab_auditevent
    FOR EACH ROW WHEN (jsonb_typeof(NEW.detail -> 'patients') = 'array')
    EXECUTE FUNCTION rehab_audit_listing()
    """,
)
POSTGRESQL_REVERSE = (
    "DROP TRIGGER rehab_audit_listing ON rehab_auditevent",
    "DROP FUNCTION rehab_audit_listing()",
)
SQLITE = (
    """
    CREATE TRIGGER rehab_audit_listing AFTER INSERT ON rehab_auditevent
    WHEN json_type(NEW.detail, '$.patients') = 'array'
    BEGIN
        INSERT INTO rehab_auditlisting (event_id, patient_ref, at)
        SELECT NEW.id, value, NEW.at FROM json_each(NEW.detail, '$.patients');
    END
    """,
)
SQLITE_REVERSE = ("DROP TRIGGER rehab_audit_listing",)


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('rehab', '0022_session_evaluation'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditListing',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('patient_ref', models.BigIntegerField()),
                ('at', models.DateTimeField()),
            ],
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='rehab_audit_clinic__2f3e34_idx',
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='patient_ref',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['clinic', '-at', '-id'], name='audit_clinic_latest'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['patient_ref', '-at', '-id'], name='audit_patient_latest'),
        ),
        migrations.AddField(
            model_name='auditlisting',
            name='event',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='rehab.auditevent'),
        ),
        migrations.AddIndex(
            model_name='auditlisting',
            index=models.Index(fields=['patient_ref', '-at', '-event'], name='audit_listed_latest'),
        ),
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
