"""/fhir/r4/: metadata, and for each type of the registry its search, read and operations, one
route each (so every route names the kind of record its id is); any other path, an unknown type
included, is a 404 OperationOutcome (not Django's page)."""

from django.urls import path, re_path

from rehab.fhir import views
from rehab.fhir.registry import REGISTRY

# FHIR's id: up to 64 of A-Z a-z 0-9 - . (R4 §2.24.0.1).
ID = r"(?P<resource_id>[A-Za-z0-9\-.]{1,64})"

app_name = "fhir"
urlpatterns = [
    path("metadata", views.MetadataView.as_view(), name="metadata"),
]
for rt in REGISTRY.values():
    kind = {"resource_type": rt.name}
    urlpatterns += [
        re_path(rf"^{rt.name}$", views.SearchView.as_view(), kind, name=f"{rt.name}-search"),
        re_path(rf"^{rt.name}/{ID}$", views.ReadView.as_view(), kind, name=f"{rt.name}-read"),
        *(
            re_path(
                rf"^{rt.name}/{ID}/\${operation}$",
                views.OPERATION_VIEWS[(rt.name, operation)].as_view(),
                name=f"{rt.name}-{operation}",
            )
            for operation in rt.operations
        ),
    ]
urlpatterns.append(re_path(r"^.*$", views.UnknownView.as_view(), name="unknown"))
