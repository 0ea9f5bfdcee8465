"""A person's personal API token: the credentials it is asked for with, and the token."""

from __future__ import annotations

from rest_framework import serializers

from rehab.api.serializers.fields import Text


class CredentialsSerializer(serializers.Serializer):
    """What a token is asked for with. (Its schema component, a request body, is named
    CredentialsRequest; "TokenRequest" became TokenRequestRequest.)"""

    username = Text(max_length=150)
    password = Text(max_length=200, style={"input_type": "password"})
    otp = Text(
        max_length=32,
        required=False,
        help_text="Required for an account with two-step sign-in: the 6-digit code the "
        "authenticator app shows now, or one of the account's single-use recovery codes. "
        "Without it such an account is refused with code `otp_required`.",
    )


class TokenSerializer(serializers.Serializer):
    token = Text()
