"""The portal's views, one module per area; each module's `urlpatterns` is included by
patients/urls.py."""
