"""/fhir/r4/: metadata, and for each type of the registry its search, read and operations, one
route each (so every route names the kind of record its id is), with the writes write.WRITES
declares on the same routes; any other path, an unknown type included, is a 404
OperationOutcome (not Django's page)."""

from django.urls import path, re_path

from rehab.fhir import views
from rehab.fhir.registry import REGISTRY
from rehab.fhir.write import WRITES
from rehab.fhir.write_views import WRITE_VIEWS

# FHIR's id: up to 64 of A-Z a-z 0-9 - . (R4 §2.24.0.1).
ID = r"(?P<resource_id>[A-Za-z0-9\-.]{1,64})"

app_name = "fhir"
urlpatterns = [
    path("metadata", views.MetadataView.as_view(), name="metadata"),
]
for rt in REGISTRY.values():
    kind = {"resource_type": rt.name}
    # A type we write: the same routes, with the writes it declares (a declared type without
    # its views fails here, at start-up, rather than declaring what is not served).
    type_view, instance_view = (
        WRITE_VIEWS[rt.name] if rt.name in WRITES else (views.SearchView, views.ReadView)
    )
    urlpatterns += [
        re_path(rf"^{rt.name}$", type_view.as_view(), kind, name=f"{rt.name}-search"),
        re_path(rf"^{rt.name}/{ID}$", instance_view.as_view(), kind, name=f"{rt.name}-read"),
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
