"""(placeholder routes: this area is being built; each answers 404 until then)"""

from django.http import Http404
from django.urls import path


def _todo(request, **kwargs):
    raise Http404


urlpatterns = [
    path("team/", _todo, name="team"),
    path("api-keys/", _todo, name="api_keys"),
]
