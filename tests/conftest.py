import uuid

import freezegun
import psycopg  # noqa: F401
import pytest
import rest_framework.throttling  # noqa: F401

# Imported before any test freezes time. DRF's throttles keep `time.time` as a class attribute,
# captured on first import: under freeze_time they would capture freezegun's fake (which then
# receives `self`); left unpatched, throttling runs on real time. psycopg's C extension checks
# the datetime types' sizes when first imported and warns on freezegun's stand-ins.
from rehab.celery import app as celery_app

freezegun.configure(extend_ignore_list=["rest_framework.throttling"])


@pytest.fixture(autouse=True, scope="session")
def _eager_celery():
    """The default suite runs tasks in-process; the live_worker tests switch this off."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    return


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Generated files (reports) go to the test's own folder, never to var/.
    settings.MEDIA_ROOT = tmp_path / "media"
    # argon2 is the production hasher; tests only need passwords to round-trip.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Pages render without a collectstatic run (production's manifest storage needs one).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Each test counts its own request budgets: the throttles' counts live in the cache, which
    # outlives a test (and on CI is one Redis shared by the xdist workers), so a test signing in
    # forty times would otherwise throttle whichever test comes next.
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for name, config in settings.CACHES.items()
    }
