from django.apps import AppConfig


class RehabConfig(AppConfig):
    name = "rehab"
    verbose_name = "Rehab core"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from rehab.middleware import stamp_session_on_login

        user_logged_in.connect(stamp_session_on_login, dispatch_uid="rehab.stamp_session")
