"""The dashboard's views, one module per area; each module's `urlpatterns` is included by
clinicians/urls.py."""
