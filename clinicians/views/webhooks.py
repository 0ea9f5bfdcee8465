"""Webhooks, for the clinic's administrators only: the endpoints the clinic's systems receive
events at, each one's delivery log, and sending a delivery again. The same rules as
/api/v1/webhooks/: every change goes through the services (which check the URL and audit it),
every read through selectors scoped by the administrator's clinic, so another clinic's ids are
a 404.

A signing secret is shown on the response that made it (adding an endpoint, rotating its secret)
and nowhere else, as the API keys page shows a new key: no redirect and no message (either would
mean storing it), and the response is kept out of every cache.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicians.access import clinic_admin_required
from clinicians.forms.webhooks import (
    WebhookEndpointEditForm,
    WebhookEndpointForm,
    WebhookRotateForm,
)
from rehab import selectors, services
from rehab.errors import RehabError
from rehab.models import WebhookDelivery, WebhookEndpoint
from rehab.web import apply_errors


def _shown_once(response):
    # The only time the secret exists outside the server: keep it out of every cache.
    response["Cache-Control"] = "no-store"
    return response


def _endpoint_or_404(request, pk: int) -> WebhookEndpoint:
    try:
        return selectors.webhook_endpoints_for(request.principal).get(pk=pk)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such webhook endpoint in this clinic.") from None


# --- The endpoints -----------------------------------------------------------------------------


def _render_list(request, form, *, new_endpoint=None, secret=None, status=200):
    response = render(
        request,
        "clinicians/webhooks/list.html",
        {
            "nav": "webhooks",
            "endpoints": list(selectors.webhook_endpoints_for(request.principal)),
            "form": form,
            "new_endpoint": new_endpoint,
            "secret": secret,
        },
        status=status,
    )
    return _shown_once(response) if secret else response


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def webhooks(request):
    if request.method != "POST":
        return _render_list(request, WebhookEndpointForm())
    form = WebhookEndpointForm(request.POST)
    if not form.is_valid():
        return _render_list(request, form, status=400)
    try:
        endpoint, secret = services.webhook_endpoint_create(
            clinic=request.principal.clinic, actor=request.principal.actor, **form.cleaned_data
        )
    except RehabError as error:
        apply_errors(form, error)
        return _render_list(request, form, status=error.status)
    # Shown on this response only: no redirect, because that would mean storing the secret.
    return _render_list(
        request, WebhookEndpointForm(), new_endpoint=endpoint, secret=secret, status=201
    )


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def webhook(request, pk):
    endpoint = _endpoint_or_404(request, pk)
    status = 200
    if request.method == "POST":
        form = WebhookEndpointEditForm(request.POST)
        if form.is_valid():
            try:
                services.webhook_endpoint_update(
                    endpoint=endpoint, actor=request.principal.actor, **form.cleaned_data
                )
            except RehabError as error:
                apply_errors(form, error)
                status = error.status
            else:
                messages.success(request, "The endpoint's changes are saved.")
                return redirect("clinicians:webhook", pk=endpoint.pk)
        else:
            status = 400
    else:
        form = WebhookEndpointEditForm(
            initial={
                "url": endpoint.url,
                "events": endpoint.events,
                "description": endpoint.description,
                "enabled": endpoint.enabled,
            }
        )
    return render(
        request,
        "clinicians/webhooks/endpoint.html",
        {"nav": "webhooks", "endpoint": endpoint, "form": form, "now": timezone.now()},
        status=status,
    )


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def webhook_rotate(request, pk):
    endpoint = _endpoint_or_404(request, pk)
    secret = None
    status = 200
    if request.method == "POST":
        form = WebhookRotateForm(request.POST)
        if form.is_valid():
            try:
                endpoint, secret = services.webhook_endpoint_rotate_secret(
                    endpoint=endpoint,
                    actor=request.principal.actor,
                    overlap=dt.timedelta(hours=form.cleaned_data["overlap_hours"]),
                )
            except RehabError as error:
                apply_errors(form, error)
                status = error.status
        else:
            status = 400
    else:
        form = WebhookRotateForm()
    response = render(
        request,
        "clinicians/webhooks/rotate.html",
        {"nav": "webhooks", "endpoint": endpoint, "form": form, "secret": secret},
        status=status,
    )
    return _shown_once(response) if secret else response


@clinic_admin_required
@require_http_methods(["GET", "POST"])
def webhook_delete(request, pk):
    endpoint = _endpoint_or_404(request, pk)
    if request.method == "POST":
        services.webhook_endpoint_delete(endpoint=endpoint, actor=request.principal.actor)
        # Not the URL: a receiver's URL may carry its own token, and a message rides in a cookie.
        messages.success(
            request,
            "The endpoint was removed with its delivery log. No more events are sent to it.",
        )
        return redirect("clinicians:webhooks")
    return render(
        request, "clinicians/webhooks/delete.html", {"nav": "webhooks", "endpoint": endpoint}
    )


# --- The delivery log --------------------------------------------------------------------------


def _render_log(request, endpoint, *, page_number, error="", status=200):
    # get_page never fails: a page number that is not a number shows the first page, one past
    # the end the last.
    page = selectors.webhook_log_paginator(request.principal, endpoint=endpoint).get_page(
        page_number
    )
    return render(
        request,
        "clinicians/webhooks/deliveries.html",
        {
            "nav": "webhooks",
            "endpoint": endpoint,
            "page": page,
            "deliveries": list(page),
            "retryable": (WebhookDelivery.Status.SUCCEEDED, WebhookDelivery.Status.FAILED),
            "error": error,
            "log_days": settings.WEBHOOK_LOG_DAYS,
        },
        status=status,
    )


@clinic_admin_required
@require_GET
def webhook_deliveries(request, pk):
    endpoint = _endpoint_or_404(request, pk)
    return _render_log(request, endpoint, page_number=request.GET.get("page"))


@clinic_admin_required
@require_POST
def webhook_delivery_retry(request, pk, delivery_id):
    endpoint = _endpoint_or_404(request, pk)
    try:
        delivery = selectors.webhook_log_for(request.principal, endpoint=endpoint).get(
            pk=delivery_id
        )
    except WebhookDelivery.DoesNotExist:
        raise Http404("No such delivery of this endpoint.") from None
    # Back to the page of the log the button was on.
    page_number = request.POST.get("page", "")
    try:
        services.webhook_delivery_retry(delivery=delivery, actor=request.principal.actor)
    except RehabError as error:
        return _render_log(
            request, endpoint, page_number=page_number, error=error.message, status=error.status
        )
    messages.success(
        request,
        f"The {delivery.event} event is being sent again now, with the same webhook-id; its "
        "row below shows how it went.",
    )
    url = reverse("clinicians:webhook_deliveries", args=[endpoint.pk])
    return redirect(f"{url}?page={page_number}" if page_number.isdigit() else url)


urlpatterns = [
    path("webhooks/", webhooks, name="webhooks"),
    path("webhooks/<int:pk>/", webhook, name="webhook"),
    path("webhooks/<int:pk>/rotate-secret/", webhook_rotate, name="webhook_rotate"),
    path("webhooks/<int:pk>/delete/", webhook_delete, name="webhook_delete"),
    path("webhooks/<int:pk>/deliveries/", webhook_deliveries, name="webhook_deliveries"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/retry/",
        webhook_delivery_retry,
        name="webhook_delivery_retry",
    ),
]
