"""(placeholder routes: this area is being built; each answers 404 until then)"""

from django.http import Http404
from django.urls import path


def _todo(request, **kwargs):
    raise Http404


urlpatterns = [
    path("protocols/", _todo, name="protocols"),
    path("protocols/<int:pk>/", _todo, name="protocol"),
    path("protocols/<int:pk>/copy/", _todo, name="protocol_copy"),
    path("protocols/<int:pk>/edit/", _todo, name="protocol_edit"),
]
