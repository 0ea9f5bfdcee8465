"""(placeholder routes: this area is being built; each answers 404 until then)"""

from django.http import Http404
from django.urls import path


def _todo(request, **kwargs):
    raise Http404


urlpatterns = [
    path("progress/", _todo, name="progress"),
    path("questionnaires/<str:measure>/", _todo, name="questionnaire"),
    path("reports/", _todo, name="reports"),
    path("reports/<int:pk>/download/", _todo, name="report_download"),
]
