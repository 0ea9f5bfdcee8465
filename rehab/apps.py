from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class RehabConfig(AppConfig):
    name = "rehab"
    verbose_name = "Rehab core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.utils.translation import gettext

        from rehab.celery import app as celery_app
        from rehab.middleware import stamp_session_on_login
        from rehab.wording import install_translator

        user_logged_in.connect(stamp_session_on_login, dispatch_uid="rehab.stamp_session")
        # The wording is pure Python; from here on its words are read in the active language.
        install_translator(gettext)
        # Register the tasks now, in every process (web, worker, shell): the outbox sends them
        # by name, and only a registered task honours the tests' eager mode.
        celery_app.autodiscover_tasks(force=True)
        # A webhook's resource as the API shows it (the services emit, the door renders).
        from rehab.api import webhook_payloads

        webhook_payloads.register()


class RehabAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on a site that asks staff for their second factor (rehab.admin_site)."""

    default = False  # "rehab" itself is RehabConfig
    default_site = "rehab.admin_site.RehabAdminSite"
