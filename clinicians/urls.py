"""The dashboard at /clinic/. Each area's module owns its routes."""

from django.urls import include, path

app_name = "clinicians"

urlpatterns = [
    path("", include("clinicians.views.auth")),
    path("", include("clinicians.views.today")),
    path("", include("clinicians.views.patient")),
    path("", include("clinicians.views.referrals")),
    path("", include("clinicians.views.flows")),
    path("", include("clinicians.views.work")),
    path("", include("clinicians.views.library")),
    path("", include("clinicians.views.team")),
    path("", include("clinicians.views.webhooks")),
    path("", include("clinicians.views.two_step")),
    path("", include("clinicians.views.data_requests")),
]
