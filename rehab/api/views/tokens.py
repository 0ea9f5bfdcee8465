"""A person's personal API token: issued on a sign-in (with its second step), revoked."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from rehab import services, two_step
from rehab.access import principal_for_user
from rehab.api import serializers as s
from rehab.api.auth import PersonalTokenAuthentication
from rehab.errors import ErrorCode, RehabError
from rehab.models import User


# Each refusal its own class: the error handler reads the stable `code` from default_code.
class OtpRequired(AuthenticationFailed):
    default_code = "otp_required"


class OtpInvalid(AuthenticationFailed):
    default_code = "otp_invalid"


class TwoStepSetupRequired(AuthenticationFailed):
    default_code = "two_step_setup_required"


def _token_second_step(request, user: User, code: str | None) -> None:
    """A token is as strong as a dashboard sign-in: an account with an authenticator sends its
    code too (a wrong one counts towards the lockout), and a clinician whose clinic requires
    two-step sign-in but who has not set it up gets no token at all. Staff keep personal tokens
    (scripts, their own tools) because the code makes them as safe as a session; clinic systems
    use API keys, which this does not touch."""
    if not two_step.two_step_enrolled(user=user):
        if two_step.two_step_required(user=user):
            raise TwoStepSetupRequired(
                "Your clinic requires two-step sign-in: set it up in the dashboard first."
            )
        return
    if not code:
        raise OtpRequired(
            "This account uses two-step sign-in: send the code from the authenticator app as `otp`."
        )
    if not two_step.two_step_verify(user=user, code=code).ok:
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        raise OtpInvalid("Wrong username, password or code.")


class TokenView(APIView):
    """A person's personal API token (e.g. for a patient's phone app)."""

    authentication_classes = [PersonalTokenAuthentication]

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    @extend_schema(
        summary="Get a personal token with a username and password (and the code, for an "
        "account with two-step sign-in)",
        tags=["auth"],
        description=(
            "Exchanges a username and password (and, for an account with two-step sign-in, the "
            "authenticator's code as `otp`) for a new personal token: send it as `Authorization: "
            "Token <token>`. Needs no credentials. Each call makes another token, valid for "
            "API_TOKEN_DAYS days; failures count towards the sign-in lockout (429 "
            "too_many_attempts)."
        ),
        request=s.CredentialsSerializer,
        responses={200: s.TokenSerializer},
        auth=[],
    )
    def post(self, request):
        serializer = s.CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = serializer.validated_data.pop("otp", None)
        user = authenticate(request, **serializer.validated_data)
        if getattr(request, "axes_locked_out", False):
            # django-axes counts this door's failures with the sign-in pages' (rehab/lockout.py).
            raise RehabError(
                ErrorCode.TOO_MANY_ATTEMPTS,
                "Too many sign-in attempts; try again in "
                f"{int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} minutes.",
                status=429,
            )
        principal = principal_for_user(user) if isinstance(user, User) else None
        if principal is None:
            raise AuthenticationFailed("Wrong username or password.")
        _token_second_step(request, user, code)
        _, raw = services.personal_token_create(user=user, clinic=principal.clinic)
        return Response({"token": raw})

    @extend_schema(
        summary="Revoke the personal token you send",
        tags=["auth"],
        description=(
            "Revokes the personal token this request is sent with; the person's other tokens keep "
            "working."
        ),
        request=None,
        responses={204: None},
    )
    def delete(self, request):
        services.personal_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
