"""The product's URLs plus two minimal DRF endpoints, the baselines of bench/api.py.

Both go through the same DRF stack as /api/v1/ (the project's REST_FRAMEWORK defaults: API-key
authentication, permission, throttles, JSON parser and renderer; the list also uses the API's
paginator, 25 rows a page) and differ from the real endpoints only in what the view does:

- POST bench/minimal/insert/: validate a small body, INSERT one AuditEvent row in a
  transaction of its own (as the session service's writes are), render it;
- GET bench/minimal/list/: one page of the Patient table, scoped by nothing, no filters, the
  same fields as the API's patient rows.
"""

from django.db import transaction
from django.urls import include, path
from rest_framework import generics, serializers

from rehab.api.pagination import Pagination
from rehab.api.serializers import PatientSerializer
from rehab.models import AuditEvent, Patient


class MinimalInsertSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "action", "object_type", "object_id"]
        read_only_fields = ["id"]


class MinimalInsert(generics.CreateAPIView):
    serializer_class = MinimalInsertSerializer

    def perform_create(self, serializer):
        # Fair to the real POST, whose service runs in a transaction: the same BEGIN/COMMIT.
        with transaction.atomic():
            serializer.save(actor_label="bench")


class MinimalPatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = list(PatientSerializer.Meta.fields)
        read_only_fields = fields


class MinimalList(generics.ListAPIView):
    queryset = Patient.objects.order_by("id")
    serializer_class = MinimalPatientSerializer
    pagination_class = Pagination
    filter_backends = []


urlpatterns = [
    path("bench/minimal/insert/", MinimalInsert.as_view(), name="bench-minimal-insert"),
    path("bench/minimal/list/", MinimalList.as_view(), name="bench-minimal-list"),
    path("", include("rehab.urls")),
]
