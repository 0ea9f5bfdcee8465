"""The patient search a clinician types: one rule for the dashboard and the REST API."""

from __future__ import annotations

from django.db.models import Func, QuerySet, TextField

from rehab.models import Patient

# Every word adds a condition to the query; a search box never needs more than this, and a
# client sending more gets its field error (the API) or the form's (the dashboard).
SEARCH_MAX_LENGTH = 100

# The fields a word is looked for in.
SEARCHED_FIELDS = ("first_name", "last_name", "external_id", "email")


class SearchedText(Func):
    """The searched fields as one text, a space between each: `(first_name || ' ' || last_name
    || ' ' || external_id || ' ' || email)`. A word never holds a space (the search splits on
    whitespace), so it is part of this text exactly when it is part of one of the fields.

    One expression rather than four ORed conditions for PostgreSQL's sake: the trigram index
    (migration 0024_search_trigram) is on UPPER() of this very expression, the one icontains
    writes, and the planner estimates one condition from that index's statistics well enough to
    read a rare name's few rows through it, and a common one's in the list's order. The space is
    written into the SQL, not passed as a parameter, so the expression is the index's whatever
    the driver does with parameters."""

    arg_joiner = " || ' ' || "
    template = "(%(expressions)s)"
    output_field = TextField()

    def __init__(self):
        super().__init__(*SEARCHED_FIELDS)


def patients_matching(patients: QuerySet[Patient], search: str) -> QuerySet[Patient]:
    """Every word must match the first or last name, the clinic's record number or e-mail."""
    terms = search.split()
    if not terms:
        return patients
    patients = patients.alias(searched_text=SearchedText())
    for term in terms:
        patients = patients.filter(searched_text__icontains=term)
    return patients
