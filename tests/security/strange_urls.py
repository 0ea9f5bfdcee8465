"""Routes the walk has never seen, for the test that it says what it would need to know."""

from django.http import HttpResponse
from django.urls import path


def view(request, **kwargs):
    return HttpResponse()


urlpatterns = [
    path("clinic/gadgets/<uuid:gadget>/", view),  # a parameter nobody described
    path("api/v1/gadget-feeds/<int:pk>/", view),  # an id under a segment nobody described
    path("fhir/Observation/<int:patient_id>/", view),  # a known id behind an unknown door
    path("clinic/patients/<int:patient_id>/notes/", view),  # known id, known door
    path("readyz", view),  # nothing to fill: any door will do
]
