"""A trigram index for the patient search (rehab/selectors/search.py), on PostgreSQL.

The search asks, for every word, whether it is part of the first or last name, the record number
or the e-mail in any case: one condition on the four fields as one text, a space between them,
`UPPER((first_name || ' ' || last_name || ' ' || external_id || ' ' || email)::text) LIKE
UPPER('%word%')` (rehab.selectors.search.SearchedText). No B-tree serves a LIKE with a leading
wildcard, so each search read every patient of the clinic (17 ms at 10,000 patients, for 5 rows
shown; 40 ms for the page's rows when the planner walked the list's index looking for them).
pg_trgm's GIN operator class does serve it: this index is on exactly that expression, so a search
reads the few patients whose text holds the word's trigrams. The expression must stay the
selector's, character for character in meaning; tests/selectors/test_search_index.py holds them
together.

The index needs the pg_trgm extension, which ships with PostgreSQL's contrib and is "trusted"
(PostgreSQL 13 on: the database's owner may create it without being a superuser). Where it is not
available, or the migrating role may not create it, the migration warns and goes on without the
index: the search gives the same results, reading the clinic's patients as before. Migrating
back past this migration and forward again, once the extension can be had, adds the index.
On SQLite nothing changes. The models' state is untouched (Meta.indexes cannot say "if the
extension is there"); makemigrations does not see the index.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger("rehab.migrations")

INDEX = "patient_search_trgm_idx"
# rehab.selectors.search.SearchedText, as it was when this migration was written.
SEARCHED_TEXT = "(first_name || ' ' || last_name || ' ' || external_id || ' ' || email)"
CREATE_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON rehab_patient "
    f"USING gin ((UPPER({SEARCHED_TEXT})) gin_trgm_ops)"
)


def trigram_extension(connection) -> str:
    """Make sure pg_trgm is installed in this database: "" when it is, else why it is not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT installed_version FROM pg_available_extensions WHERE name = 'pg_trgm'"
        )
        row = cursor.fetchone()
        if row is None:
            return "the pg_trgm extension is not available on this server (postgresql-contrib)"
        if row[0] is not None:
            return ""
        try:
            # A savepoint: a refusal must not abort the migration's own transaction.
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:
            return f"this role may not create the pg_trgm extension ({error})".strip()
    return ""


def add_search_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    reason = trigram_extension(connection)
    if reason:
        logger.warning(
            "Patient search left unindexed: %s. The search still works; it reads every patient "
            "of the clinic. See README, 'PostgreSQL: the search index'.",
            reason,
        )
        return
    schema_editor.execute(CREATE_INDEX)


def drop_search_index(apps, schema_editor):
    # The extension stays: other databases' objects may use it, and it costs nothing unused.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("rehab", "0023_audit_scale")]

    operations = [migrations.RunPython(add_search_index, drop_search_index, elidable=False)]
