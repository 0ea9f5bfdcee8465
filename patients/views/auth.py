"""Sign in, sign out and password reset for patients, in the portal's large, calm style."""

from patients.forms.auth import SignInForm
from rehab.web import auth_urlpatterns

urlpatterns = auth_urlpatterns(door="patients", form_class=SignInForm, home="patients:today")
