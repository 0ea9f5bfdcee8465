"""(placeholder routes: this area is being built; each answers 404 until then)"""

from django.http import Http404
from django.urls import path


def _todo(request, **kwargs):
    raise Http404


urlpatterns = [
    path("patients/<int:pk>/", _todo, name="patient"),
    path("decisions/<int:pk>/approve/", _todo, name="decision_approve"),
    path("decisions/<int:pk>/reject/", _todo, name="decision_reject"),
    path("patients/<int:pk>/reports/", _todo, name="report_request"),
    path("reports/<int:pk>/", _todo, name="report_status"),
    path("reports/<int:pk>/download/", _todo, name="report_download"),
]
