"""Today: what to do today, in plain words."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from patients.access import patient_required


@patient_required
def today(request):
    return render(request, "patients/today.html", {})


urlpatterns = [path("", today, name="today")]
