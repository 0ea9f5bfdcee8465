"""The Django admin's site: outside DEBUG, no staff member gets in without a second factor.

The admin reaches every clinic's records, so a password alone is not enough: django-otp's
OTPAdminSite refuses a session that no confirmed authenticator (or recovery code) has verified.
Its sign-in is the dashboard's (rehab.web), which asks for the code after the password, so the
lockout, the code throttle and the audit trail are the same for both. Staff enrol at
/clinic/account/two-step/ after signing in there with their password; an operator can also give
a one-off recovery code with `manage.py addstatictoken <username>`. With DEBUG on (`make run`),
the demo's admin signs in with the password alone.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.admin import AdminSite
from django.shortcuts import redirect, render
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from rehab.two_step import two_step_enrolled


class RehabAdminSite(OTPAdminSite):
    site_header = "Retrowalk administration"
    site_title = "Retrowalk"

    def __init__(self, name: str = "admin"):
        super().__init__(name)

    @staticmethod
    def second_factor_required() -> bool:
        # Read per request rather than at import, so the rule follows the running settings.
        return not settings.DEBUG

    def has_permission(self, request) -> bool:
        if self.second_factor_required():
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)

    def login(self, request, extra_context=None):
        if not self.second_factor_required():
            return AdminSite.login(self, request, extra_context)
        if request.user.is_authenticated and not self.has_permission(request):
            # Signed in, but with the password alone (or not as staff): say what is missing
            # rather than sending them round the sign-in again.
            return render(
                request,
                "admin/two_step_needed.html",
                {
                    **self.each_context(request),
                    "title": "Two-step sign-in needed",
                    "has_device": two_step_enrolled(user=request.user),
                },
                status=403,
            )
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect(f"{reverse('clinicians:login')}?{urlencode({'next': next_url})}")
