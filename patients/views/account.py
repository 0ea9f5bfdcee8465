"""The patient's own data: "Download my data", their whole record in one zip (GDPR Art. 15
and 20). Built and audited by rehab.fhir.export, for the signed-in patient's own record only."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from patients.access import patient_required
from rehab.fhir.export import patient_export


def attachment(export) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@patient_required
@require_GET
def my_data(request):
    principal = request.principal
    base_url = request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("metadata")
    return attachment(
        patient_export(principal=principal, patient_id=principal.patient.pk, base_url=base_url)
    )


urlpatterns = [path("my-data/download/", my_data, name="my_data")]
