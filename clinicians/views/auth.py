"""Sign in, sign out and password reset for the clinic's staff."""

from clinicians.forms.auth import SignInForm
from rehab.web import auth_urlpatterns

urlpatterns = auth_urlpatterns(door="clinicians", form_class=SignInForm, home="clinicians:today")
