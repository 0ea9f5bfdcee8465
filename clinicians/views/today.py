"""Today: the clinic's patients, sorted by need."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from clinicians.access import clinician_required


@clinician_required
def today(request):
    return render(request, "clinicians/today.html", {})


urlpatterns = [path("", today, name="today")]
