"""The patient search a clinician types: one rule for the dashboard and the REST API."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from rehab.models import Patient

# Every word adds four conditions to the query; a search box never needs more than this, and a
# client sending more gets its field error (the API) or the form's (the dashboard).
SEARCH_MAX_LENGTH = 100


def patients_matching(patients: QuerySet[Patient], search: str) -> QuerySet[Patient]:
    """Every word must match the first or last name, the clinic's record number or e-mail."""
    for term in search.split():
        patients = patients.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(external_id__icontains=term)
            | Q(email__icontains=term)
        )
    return patients
