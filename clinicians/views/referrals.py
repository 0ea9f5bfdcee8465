"""Recording that an urgent or emergency referral was acted on, from its banner on the patient
page. The screening is found through the clinician's principal (another clinic's is a 404); the
service records who, when and what, audited, and clears the referral's flag on Today."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from clinicians.access import clinician_required
from clinicians.forms.referrals import ReferralActionForm
from clinicians.views.patient import render_patient_page
from rehab import selectors, services
from rehab.errors import RehabError
from rehab.web import apply_errors


@clinician_required
@require_POST
def referral_act(request, pk: int):
    screening = get_object_or_404(
        selectors.screenings_for(request.principal).select_related("patient"), pk=pk
    )
    patient = screening.patient
    form = ReferralActionForm(request.POST, screening_id=screening.pk)
    if form.is_valid():
        try:
            services.referral_act(
                screening=screening, actor=request.user, action=form.cleaned_data["action"]
            )
        except RehabError as error:
            if error.status == 409:
                # Already recorded (a colleague was quicker) or nothing to record: the page
                # shows the current state, with why nothing was saved.
                messages.error(request, error.message)
                return redirect(reverse("clinicians:patient", args=[patient.pk]) + "#screenings")
            apply_errors(form, error)
        else:
            messages.success(
                request,
                f"Recorded: the {screening.get_referral_display().lower()} referral was acted on.",
            )
            return redirect(reverse("clinicians:patient", args=[patient.pk]) + "#screenings")
    return render_patient_page(request, patient, referral_form=form, status=400)


urlpatterns = [
    path("screenings/<int:pk>/referral-acted/", referral_act, name="referral_act"),
]
