"""(placeholder: the portal invitation is being built)"""

from django.http import Http404
from django.urls import path


def _todo(request, **kwargs):
    raise Http404


urlpatterns = [path("invite/<str:token>/", _todo, name="invite_accept")]
