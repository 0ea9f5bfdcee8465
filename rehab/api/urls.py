from csp.constants import NONCE
from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from rehab.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
# JSON is the API's only format: no `.json` suffix routes (they passed a `format` argument the
# actions do not take, a 500).
router.include_format_suffixes = False
router.register("patients", views.PatientViewSet, basename="patient")
router.register("screenings", views.ScreeningViewSet, basename="screening")
router.register("protocols", views.ProtocolViewSet, basename="protocol")
router.register("plans", views.PlanViewSet, basename="plan")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("decisions", views.DecisionViewSet, basename="decision")
router.register("outcomes", views.OutcomeViewSet, basename="outcome")
router.register("reminders", views.ReminderViewSet, basename="reminder")
router.register("reports", views.ReportViewSet, basename="report")
router.register("audit-events", views.AuditEventViewSet, basename="auditevent")
router.register("webhooks", views.WebhookViewSet, basename="webhook")

# Swagger UI under the site's Content-Security-Policy: the split view serves its bootstrap script
# from this same URL (?script=) instead of inline, and our template gives its one inline
# <style> the request's nonce; only this view's style-src admits that nonce.
docs = csp_update({"style-src": [NONCE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html")
)

app_name = "api"
urlpatterns = [
    path("", include(router.urls)),
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs, name="docs"),
]
