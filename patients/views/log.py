"""(placeholder routes: this area is being built; each answers 404 until then)"""

from django.http import Http404
from django.urls import path


def _todo(request, **kwargs):
    raise Http404


urlpatterns = [
    path("log/", _todo, name="session_log"),
    path("sessions/<int:pk>/next-morning/", _todo, name="next_morning"),
]
