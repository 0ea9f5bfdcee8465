"""(placeholder routes: this area is being built; each answers 404 until then)"""

from django.http import Http404
from django.urls import path


def _todo(request, **kwargs):
    raise Http404


urlpatterns = [
    path("patients/new/", _todo, name="patient_new"),
    path("patients/<int:pk>/edit/", _todo, name="patient_edit"),
    path("patients/<int:pk>/screening/", _todo, name="screening_new"),
    path("patients/<int:pk>/assign/", _todo, name="plan_assign"),
    path("plans/<int:pk>/", _todo, name="plan_manage"),
    path("patients/<int:pk>/invite/", _todo, name="patient_invite"),
]
