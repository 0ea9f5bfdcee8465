from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView

from rehab.readiness import OK, readiness


def health(request):
    """Liveness for load balancers and docker compose: no database query, no patient data."""
    return JsonResponse({"status": "ok"})


def ready(request):
    """Readiness: 200 when the database, the broker and the cache all answer, else 503, each
    reported on its own. Not audited (no patient data); never cached (it is about now)."""
    checks = readiness()
    ok = all(result == OK for result in checks.values())
    response = JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="clinicians:today", permanent=False)),
    path("clinic/", include("clinicians.urls")),
    path("portal/", include("patients.urls")),
    path("healthz", health, name="health"),
    path("readyz", ready, name="ready"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("rehab.api.urls")),
    path("fhir/r4/", include("rehab.fhir.urls")),
]

# Under /api/ these answer the API's JSON error shape; elsewhere Django's pages.
handler400 = "rehab.api.errors.bad_request"
handler403 = "rehab.api.errors.permission_denied"
handler404 = "rehab.api.errors.page_not_found"
handler500 = "rehab.api.errors.server_error"
