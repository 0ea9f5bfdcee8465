"""The FHIR R4 door (/fhir/r4/): read and search of a clinic's rehab data as FHIR resources,
and the writes of a Patient a clinic system makes (create, update, conditional by identifier).

The same credentials as /api/v1/ (rehab.api.auth), the same scoping (the selectors, by the acting
principal) and the same audit (one event per response naming the patients shown). Resources are
built with fhir.resources' R4B models, so each is validated as it is made; we use only elements
that R4 (4.0.1) has in the same shape, and the CapabilityStatement says R4.

- codes.py: the code systems, codes and identifier systems we speak;
- resources.py: a row (patient, plan, session) -> its FHIR resources;
- questionnaires.py: the outcome measures: our Questionnaires, each recorded score's
  QuestionnaireResponse and Observation;
- records.py: a plan's Goal, a session's AdverseEvents, a ready report's DocumentReference, an
  audit event as an AuditEvent;
- search.py: the search parameters' values parsed (dates with prefixes, tokens, references);
- registry.py: each resource type we serve, its rows, builder and search parameters; the views
  and the CapabilityStatement both read it, so what is served and what is declared cannot drift;
- views.py / urls.py: the interactions; errors.py: every error as an OperationOutcome;
- write.py: the types we write, declared beside the registry (the CapabilityStatement reads it
  too), and a Patient mapped to the services' fields; write_views.py: the writes' HTTP side.
"""
