import freezegun
import pytest
import rest_framework.throttling  # noqa: F401

# DRF's throttles keep `time.time` as a class attribute, captured on first import: imported
# under freeze_time it would capture freezegun's fake (which then receives `self`). Importing it
# here, before any test freezes time, and leaving it unpatched keeps throttling on real time.
from rehab.celery import app as celery_app

freezegun.configure(extend_ignore_list=["rest_framework.throttling"])


@pytest.fixture(autouse=True, scope="session")
def _eager_celery():
    """The default suite runs tasks in-process; the live_worker tests switch this off."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    return


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # argon2 is the production hasher; tests only need passwords to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pages render without a collectstatic run (production's manifest storage needs one).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
