from rest_framework.permissions import BasePermission

from rehab.access import API_KEY, PATIENT
from rehab.api.auth import principal_of


class IsPrincipal(BasePermission):
    """Someone with a clinic (clinician, API key) or a patient record; then the view says what
    each kind may do: `patient_actions` lists the actions open to a patient (on their own rows),
    `admin_only` keeps an endpoint to clinic administrators, `admin_or_key_only` to them and
    the clinic's systems (API keys)."""

    message = "This account has no clinic or patient record to act on."

    def has_permission(self, request, view) -> bool:
        principal = principal_of(request)
        if principal is None:
            return False
        if principal.kind == PATIENT:
            if view.action in getattr(view, "patient_actions", ()):
                return True
            self.message = "A patient's login cannot use this endpoint."
            return False
        if getattr(view, "admin_only", False) and not principal.is_clinic_admin:
            self.message = "Only clinic administrators can use this endpoint."
            return False
        if (
            getattr(view, "admin_or_key_only", False)
            and principal.kind != API_KEY
            and not principal.is_clinic_admin
        ):
            self.message = "Only clinic administrators and clinic systems can use this endpoint."
            return False
        return True
