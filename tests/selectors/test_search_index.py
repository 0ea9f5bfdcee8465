"""The patient search's trigram index on PostgreSQL (rehab/migrations/0024_search_trigram.py):
there where the extension can be had, serving the search's own query as written, and left out
with a warning, the search still answering, where the migrating role may not create it."""

from __future__ import annotations

import importlib
import logging

import pytest
from django.db import connection

from rehab import selectors
from rehab.models import Patient
from tests.factories import ClinicFactory, PatientFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's"),
]

migration = importlib.import_module("rehab.migrations.0024_search_trigram")


def index_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [migration.INDEX])
        return cursor.fetchone() is not None


def test_the_migration_made_the_index_on_the_searched_text():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [migration.INDEX])
        (definition,) = cursor.fetchone()
    assert "USING gin (upper(" in definition
    assert definition.endswith("gin_trgm_ops)")
    for column in ("first_name", "last_name", "external_id", "email"):
        assert f"({column})::text" in definition


def test_the_searchs_query_is_one_the_index_serves():
    clinic = ClinicFactory()
    PatientFactory(clinic=clinic, last_name="Quennell")
    PatientFactory(clinic=clinic, last_name="Smith")
    found = selectors.patients_matching(Patient.objects.all(), "quen nell")
    with connection.cursor() as cursor:
        # No plan but the index's can read the rows: the query must name its expressions.
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
    assert migration.INDEX in found.explain()
    assert [p.last_name for p in found] == ["Quennell"]


def test_without_the_right_to_create_the_extension_the_migration_warns_and_skips_the_index(
    caplog,
):
    clinic = ClinicFactory()
    PatientFactory(clinic=clinic, first_name="Ann", last_name="Quennell")
    role = f"nobody_{connection.settings_dict['NAME']}"[:63]
    with connection.cursor() as cursor:
        # All undone with the test's transaction: DDL and roles are transactional.
        cursor.execute(f"DROP INDEX {migration.INDEX}")
        cursor.execute("DROP EXTENSION pg_trgm")
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        cursor.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        cursor.execute(f'SET LOCAL ROLE "{role}"')
    with caplog.at_level(logging.WARNING, logger="rehab.migrations"):
        with connection.schema_editor(atomic=False) as editor:
            migration.add_search_index(None, editor)
        # Unindexed, the search gives the same answer.
        assert [
            p.last_name for p in selectors.patients_matching(Patient.objects.all(), "quen")
        ] == ["Quennell"]
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert not index_exists()
    assert "may not create the pg_trgm extension" in caplog.text
    assert "The search still works" in caplog.text
