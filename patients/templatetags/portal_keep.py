"""Template tags for keeping a patient's input over an ended sign-in (patients/keep.py)."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html

from patients import keep

register = template.Library()


@register.simple_tag(takes_context=True)
def kept_for_field(context) -> str:
    """The hidden field that says whose form this is, so that it can be kept for them if it
    arrives after their sign-in has ended. Goes inside every portal form that saves input."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return format_html(
        '<input type="hidden" name="{}" value="{}">',
        keep.KEPT_FOR_FIELD,
        keep.kept_for_value(user),
    )


def keepalive_seconds() -> int:
    """How often a running timer tells the server the patient is still there: well within the
    idle limit, and at least every five minutes."""
    return max(1, min(settings.SESSION_COOKIE_AGE // 3, 300))


@register.simple_tag
def keepalive_script() -> str:
    """The script that keeps the sign-in alive while the guided timer runs (static/js/
    keepalive.js), with where and how often it asks."""
    return format_html(
        '<script src="{}" data-url="{}" data-seconds="{}" defer></script>',
        static("js/keepalive.js"),
        reverse("patients:keepalive"),
        keepalive_seconds(),
    )
