from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import RedirectView


def health(request):
    """Liveness for load balancers and docker compose: no database query, no patient data."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="clinicians:today", permanent=False)),
    path("clinic/", include("clinicians.urls")),
    path("portal/", include("patients.urls")),
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("rehab.api.urls")),
]
