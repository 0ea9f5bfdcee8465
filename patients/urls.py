"""The patient portal at /portal/."""

from django.urls import include, path

app_name = "patients"

urlpatterns = [
    path("", include("patients.views.auth")),
    path("", include("patients.views.today")),
    path("", include("patients.views.invite")),
    path("", include("patients.views.log")),
    path("", include("patients.views.progress")),
    path("", include("patients.views.reminders")),
    path("", include("patients.views.keepalive")),
    path("", include("patients.views.account")),
]
