"""(placeholder routes: this area is being built; each answers 404 until then)"""

from django.http import Http404
from django.urls import path


def _todo(request, **kwargs):
    raise Http404


urlpatterns = [
    path("reminders/", _todo, name="reminders"),
    path("calendar/<str:token>.ics", _todo, name="calendar_feed"),
]
