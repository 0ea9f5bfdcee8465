"""The one settings module. Every knob is an environment variable with an embedded default.

The embedded defaults (nothing set) run the whole product on one machine: SQLite and Celery's
filesystem broker under var/, e-mail written to var/mail/. Production sets DATABASE_URL and
REDIS_URL (see docker-compose.yml and the README's configuration table). A malformed value fails
at start-up with ImproperlyConfigured rather than being guessed at.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _bool(name: str, default: bool) -> bool:
    # django-environ reads any unknown word as False; a typo in a security switch must not pass.
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false).")


VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = _bool("DEBUG", False)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    # Embedded mode: one random key per installation, kept under var/ so sessions survive a
    # restart. Production passes SECRET_KEY; the key is never a constant in the code.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin with the site that asks for a second factor (rehab.admin_site).
    "rehab.apps.RehabAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "rehab",
    "clinicians",
    "patients",
]

MIDDLEWARE = [
    # First: the health probes are asked by address over plain HTTP (docker, load balancers),
    # so they are answered before the host check and the HTTPS redirect.
    "rehab.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second step (django-otp).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "rehab.audit.AuditContextMiddleware",
    "rehab.middleware.SessionIdleTimeoutMiddleware",
    "rehab.middleware.NoStoreWhenSignedInMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rehab.urls"
WSGI_APPLICATION = "rehab.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one SQLite file in embedded mode: WAL lets
    # readers go on while one writes, IMMEDIATE takes the write lock at BEGIN so two writers
    # queue on the timeout instead of failing with "database is locked" mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # PostgreSQL's JIT compiles the dashboard's list query on every request once the tables
    # have statistics: about a second of compiling for a query that runs in tens of ms.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "rehab.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Sign-in by username or e-mail; django-axes first, so a locked-out account is refused before
# its password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rehab.backends.UsernameOrEmailBackend",
]
# [I] How many proxies of our own stand in front of the web server (1 behind docker compose's
# TLS proxy). Their X-Forwarded-For entries are believed, nobody else's: with 0 the address is
# REMOTE_ADDR, so a client cannot pick its own address for the lockout, the throttle or the
# audit trail (rehab/client_ip.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
# [I] Five wrong passwords for one ACCOUNT lock it for 15 minutes, however its name or address
# was typed and from any address (an attacker rotating addresses must not get unlimited tries at
# a clinician's account). One address is locked after LOGIN_ADDRESS_FAILURE_LIMIT failures over
# any accounts: high enough that a clinic behind one NAT is not locked out by typos, low enough
# to stop a password sprayer. rehab/lockout.py keys the counts and applies the two limits.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=50)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "rehab.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "rehab.client_ip.client_address"
AXES_HANDLER = "rehab.lockout.AccountAndAddressHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_VERBOSE = False

# The second step of sign-in (rehab.two_step, django-otp). Authenticator apps show this name.
OTP_TOTP_ISSUER = env.str("TWO_STEP_ISSUER", default="Retrowalk")
# [I] A sign-in waiting for its code is forgotten after this many seconds: the password must be
# typed again.
TWO_STEP_PENDING_SECONDS = env.int("TWO_STEP_PENDING_SECONDS", default=300)
# django-otp doubles the wait after each wrong code on one device (1 s, 2 s, 4 s, ...), on top of
# the lockout that wrong codes count towards.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

LOGIN_URL = "clinicians:login"
LOGIN_REDIRECT_URL = "clinicians:today"
# Where links in e-mails (portal invitations, password resets sent by a worker) point. Unset, it
# is this machine on the port the server was started on (`PORT=8801 make run`), so links work
# on a developer's machine; a deployment sets its public address.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}").rstrip(
    "/"
)
# The FHIR door's identifier and code systems start with this (our patient ids, each clinic's
# record numbers, our own codes: rehab/fhir/codes.py). Clinic systems store these URIs beside the
# values, so a deployment fixes it once and never changes it (its own public address is a fair
# choice, and the default).
FHIR_SYSTEM_BASE = env.str("FHIR_SYSTEM_BASE", default=f"{SITE_URL}/fhir").rstrip("/")
# A FHIR search's page when the client sends no _count (at most API_MAX_PAGE_SIZE either way).
FHIR_PAGE_SIZE = 20
# The product's name where the system itself acted (a report's "Assigned by Retrowalk").
SYSTEM_NAME = env.str("SYSTEM_NAME", default="Retrowalk")
# [I] A portal invitation link works once, for this many days.
INVITE_VALID_DAYS = env.int("INVITE_VALID_DAYS", default=7)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=2 * 60 * 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise looks here at start-up, collected or not
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Reports are health data: they live outside STATIC/any public URL and are served only by an
# authorising view.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

REDIS_URL = env.str("REDIS_URL", default="")


def _next_redis_database(url: str) -> str:
    """The broker's Redis URL with the next database number (the one before, for the last of
    Redis' 16): the cache's keys never mix with the broker's queues, and clearing one never
    empties the other."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{number + 1 if number < 15 else number - 1}"))


if REDIS_URL:
    REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default="") or _next_redis_database(REDIS_URL)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
            # The cache holds only throttle counts, which fall back to a per-process count
            # when Redis is down (rehab/api/throttling.py): an unreachable Redis must cost a
            # request a second at most, not the operating system's TCP timeout.
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_TIMEOUT_SECONDS", default=1.0),
                "socket_timeout": env.float("CACHE_TIMEOUT_SECONDS", default=1.0),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# /readyz gives each dependency check this long (they run side by side) before it reports
# "TimeoutError": a load balancer's probe must get its answer well within its own timeout.
READYZ_TIMEOUT_SECONDS = env.float("READYZ_TIMEOUT_SECONDS", default=1.5)

# E-mail: embedded default writes each message to var/mail/ so nothing leaves the machine.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://")
if EMAIL_CONFIG["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    # django-environ drops the leading "/" of filemail:///an/absolute/path, which would write
    # mail relative to whatever directory a process runs in; take the path as written.
    _mail_path = env.str("EMAIL_URL", default="").partition("://")[2]
    EMAIL_CONFIG["EMAIL_FILE_PATH"] = _mail_path or str(VAR_DIR / "mail")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Retrowalk <no-reply@localhost>")

# SMS reminders go to an HTTP gateway as JSON {"to", "text"} (POST), with an optional bearer token.
SMS_WEBHOOK_URL = env.str("SMS_WEBHOOK_URL", default="")
SMS_WEBHOOK_TOKEN = env.str("SMS_WEBHOOK_TOKEN", default="")
SMS_WEBHOOK_TIMEOUT = env.float("SMS_WEBHOOK_TIMEOUT", default=10.0)

SESSION_COOKIE_SECURE = _bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# [I] Health data on shared clinic computers: a session ends after 30 idle minutes
# (rehab.middleware.SessionIdleTimeoutMiddleware keeps an active one going).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
# [I] A patient's phone is their own: a patient who ticks "Keep me signed in on this device" at
# the portal's sign-in stays signed in until this many days pass without a visit. Clinicians and
# patients who leave it unticked keep the idle rule above. 0 removes the choice.
PORTAL_REMEMBER_DAYS = env.int("PORTAL_REMEMBER_DAYS", default=30)
if PORTAL_REMEMBER_DAYS < 0:
    raise ImproperlyConfigured(f"PORTAL_REMEMBER_DAYS={PORTAL_REMEMBER_DAYS} must be 0 or more.")
# [I] A portal form sent after its sign-in had ended (a 30-minute walk, a long questionnaire) is
# kept this many hours for the same patient to sign in again, then saved; after that it is
# removed (rehab.models.KeptForm).
PORTAL_KEPT_FORM_HOURS = env.int("PORTAL_KEPT_FORM_HOURS", default=24)
# [I] A questionnaire left half answered is resumed for this many days; after that it starts
# afresh, since its questions ask about the last week and old answers would no longer be true.
QUESTIONNAIRE_DRAFT_DAYS = env.int("QUESTIONNAIRE_DRAFT_DAYS", default=7)
if QUESTIONNAIRE_DRAFT_DAYS < 1:
    raise ImproperlyConfigured(
        f"QUESTIONNAIRE_DRAFT_DAYS={QUESTIONNAIRE_DRAFT_DAYS} must be 1 or more."
    )
if PORTAL_KEPT_FORM_HOURS < 1:
    raise ImproperlyConfigured(
        f"PORTAL_KEPT_FORM_HOURS={PORTAL_KEPT_FORM_HOURS} must be 1 or more."
    )
if _bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A site with secure cookies is served over HTTPS: plain-HTTP requests are redirected, and
# browsers are told (HSTS) to use HTTPS only for a year. `make run` (plain HTTP on 127.0.0.1)
# keeps both off. The health probes are answered before the redirect (HealthCheckMiddleware).
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", SESSION_COOKIE_SECURE)
# (compose passes an unset one as empty: the default)
SECURE_HSTS_SECONDS = int(
    env.str("SECURE_HSTS_SECONDS", default="")
    or (365 * 24 * 60 * 60 if SESSION_COOKIE_SECURE else 0)
)
# The policy covers this host's own subdomains (*.rehab.example.org), never its parent domain.
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Asking browsers' built-in preload lists to include the domain is the domain owner's decision,
# made once at hstspreload.org for the whole registered domain: off unless asked for.
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", False)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]  # check --deploy's "set the preload flag"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): everything from this server, no inline script or style
# anywhere, so an injected <script> or style="" in a patient's note does nothing. Pages load
# their behaviour from static/js/. The API docs (Swagger UI) get a nonce for their one inline
# <style> (rehab/api/urls.py); no other view is relaxed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Swagger UI's stylesheet draws its icons as data: SVGs.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Celery: JSON only, tasks take ids and are idempotent, so late acks are safe.
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if REDIS_URL:
    # A task whose worker died unacknowledged (acks_late) goes back to the queue after this;
    # it must exceed the longest retry countdown (reminders back off up to 15 minutes).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        # A broker that is down must fail a publish fast: the request that published goes on
        # without it (the outbox sweep delivers later), and must not hang meanwhile.
        "socket_connect_timeout": env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2.0),
        "socket_timeout": env.float("CELERY_BROKER_SOCKET_TIMEOUT", default=5.0),
    }
else:
    _queue = VAR_DIR / "celery" / "queue"
    _processed = VAR_DIR / "celery" / "processed"
    for _folder in (_queue, _processed):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        "store_processed": False,
        # Broadcast bookkeeping; without it kombu writes ./control wherever a process starts.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One quick retry when publishing (kombu's default tries for about a second more per publish,
# plus reconnects); a message that cannot go now is picked up by the outbox sweep.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECT_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# Deferred work is recorded as rows with the change that causes it (rehab/outbox.py); this
# often, beat's sweep hands a worker again whatever waits longer or was claimed by a dead one.
OUTBOX_SWEEP_SECONDS = env.int("OUTBOX_SWEEP_SECONDS", default=60)
# Signed webhooks to clinic systems (rehab/webhooks.py). Deliveries refuse private, loopback,
# link-local and other non-public addresses unless this is true (development and tests only: a
# clinic admin's URL must never reach the internal network). The signing secrets are derived
# from WEBHOOKS_SECRET_KEY (by default SECRET_KEY): changing it changes every endpoint's
# secret, as a rotation without overlap would.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = _bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False)
WEBHOOKS_SECRET_KEY = env.str("WEBHOOKS_SECRET_KEY", default="") or SECRET_KEY
# How long a finished delivery (with its payload) stays in the endpoint's delivery log.
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)
if WEBHOOK_LOG_DAYS < 1:
    raise ImproperlyConfigured("WEBHOOK_LOG_DAYS must be 1 or more.")
# The nightly progression run (a message per batch of plans, minutes of work at clinic-group
# scale) has a queue of its own, so a reminder or an alert due meanwhile never waits behind it:
# production runs a worker for each queue (docker-compose.yml), `make run`'s one worker takes
# both. Everything else goes to the default queue.
CELERY_TASK_DEFAULT_QUEUE = "celery"
NIGHTLY_QUEUE = "nightly"
CELERY_TASK_ROUTES = {
    "rehab.tasks.progression_nightly": {"queue": NIGHTLY_QUEUE},
    "rehab.tasks.progression_evaluate_batch": {"queue": NIGHTLY_QUEUE},
}
CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"


def _retention_days() -> int | None:
    raw = env.str("AUDIT_RETENTION_DAYS", default="").strip()
    if raw == "":
        return None  # keep for ever
    if not raw.isdigit() or int(raw) < 1:
        raise ImproperlyConfigured(
            f"AUDIT_RETENTION_DAYS={raw!r} is not a whole number of days (empty: keep for ever)."
        )
    return int(raw)


# The audit trail (rehab/audit_chain.py): how long events are kept at least (None: for ever;
# only events exported and sealed are ever removed), and after how long an event the sealer has
# not chained is reported by audit_verify as suspicious.
AUDIT_RETENTION_DAYS = _retention_days()
AUDIT_SEAL_GRACE_MINUTES = env.int("AUDIT_SEAL_GRACE_MINUTES", default=10)

CELERY_BEAT_SCHEDULE = {
    # A sweep queued while the workers were down expires rather than running late: the first
    # one after they return hands over everything still due, the ones behind it would repeat it.
    "outbox-sweep": {
        "task": "rehab.tasks.outbox_sweep",
        "schedule": OUTBOX_SWEEP_SECONDS,
        "options": {"expires": OUTBOX_SWEEP_SECONDS},
    },
    "audit-seal": {
        "task": "rehab.tasks.audit_seal",
        "schedule": 60.0,  # chains the minute's new audit events
    },
    "audit-retention": {
        "task": "rehab.tasks.audit_retention",
        "schedule": crontab(hour=3, minute=15),  # daily; nothing to do without a policy
    },
    "digests-dispatch": {
        "task": "rehab.tasks.digests_dispatch",
        "schedule": crontab(minute=5),  # hourly; each clinic's digest goes at its local 07:xx
    },
    "reminders-dispatch": {
        "task": "rehab.tasks.reminders_dispatch",
        # Reminders are due at the patients' chosen minutes; five minutes is the precision.
        "schedule": env.int("REMINDERS_DISPATCH_SECONDS", default=300),
    },
    "kept-forms-purge": {
        "task": "rehab.tasks.kept_forms_purge",
        # Portal forms kept over an ended sign-in hold health data: gone within the hour after
        # PORTAL_KEPT_FORM_HOURS, even when no new one is kept meanwhile.
        "schedule": crontab(minute=40),
    },
    "webhook-deliveries-purge": {
        "task": "rehab.tasks.webhook_deliveries_purge",
        # The delivery log keeps each event's payload (patient data): kept WEBHOOK_LOG_DAYS.
        "schedule": crontab(hour=3, minute=45),
    },
    "progression-nightly": {
        "task": "rehab.tasks.progression_nightly",
        # Early UTC morning: after the day's sessions are in, before any clinician's review.
        "schedule": crontab(hour=env.int("PROGRESSION_NIGHTLY_HOUR_UTC", default=2), minute=30),
    },
}

# The largest request body taken, API or form (Django's setting; the API's parser applies it
# too). Our largest real body, a protocol with its levels, is a few kilobytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=1024 * 1024)

# The REST API (rehab/api/). Keys first: its authenticate_header makes a missing credential a
# 401 with WWW-Authenticate rather than a 403.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rehab.api.auth.ApiKeyAuthentication",
        "rehab.api.auth.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rehab.api.permissions.IsPrincipal"],
    "DEFAULT_PAGINATION_CLASS": "rehab.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "rehab.api.filters.FilterBackend",
        "rehab.api.pagination.StrictOrderingFilter",
    ],
    # Counted in the cache; per process while it is unreachable (rehab/api/throttling.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "rehab.api.throttling.PrincipalRateThrottle",
        "rehab.api.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "principal": env.str("API_THROTTLE_RATE", default="600/min"),
        "anon": env.str("API_ANON_THROTTLE_RATE", default="60/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "rehab.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "rehab.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rehab.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": None,
    # The same proxies as rehab/client_ip.py, for any DRF code that reads the address itself.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
API_MAX_PAGE_SIZE = 100
# [I] A personal API token (POST /api/v1/auth/token/) works for this many days; a password
# change or reset, or deactivating the account, ends it sooner.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)
if API_TOKEN_DAYS < 1:
    raise ImproperlyConfigured("API_TOKEN_DAYS must be 1 or more.")

SPECTACULAR_SETTINGS = {
    "TITLE": "Retrowalk API",
    "DESCRIPTION": (
        "The REST API for clinic systems: patients, screenings, protocols, plans, session logs, "
        "progression decisions, outcome scores, reminders, reports and audit events. "
        "Authenticate with `Authorization: Api-Key <key>` (clinic systems), a personal token "
        "`Authorization: Token <token>` (patients), or a signed-in session. Errors share one "
        "shape: `{code, message, fields}`."
    ),
    "VERSION": "1.0.0",
    # Relative: the API is this same server, wherever a clinic runs it (the paths carry
    # /api/v1/). A generated client takes its base URL when it is made.
    "SERVERS": [{"url": "/", "description": "The server that serves this schema."}],
    # The project grants no licence (it has no LICENSE file): say so rather than leave it unsaid.
    "LICENSE": {"name": "All rights reserved"},
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ConditionEnum": "rehab.models.CONDITION_CHOICES",
        "SettingEnum": "rehab.models.SETTING_CHOICES",
        "ChannelEnum": "rehab.models.Patient.Channel",
        # A decision's status is named in the decisions and, nested, in the sessions' responses.
        "DecisionStatusEnum": "rehab.models.ProgressionDecision.Status",
        # A webhook's events, in its endpoints and in their deliveries.
        "WebhookEventEnum": "rehab.models.WebhookEvent",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "rehab.api.schema.nullable_references",
    ],
}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Request targets without query strings or secret path segments (rehab/log_privacy.py;
    # gunicorn's access log gets the same from gunicorn.conf.py).
    "filters": {"private_paths": {"()": "rehab.log_privacy.PrivatePathFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # django-axes logs every sign-in at INFO; failures (WARNING) are what an operator needs.
        "axes": {"level": "WARNING"},
        "django.request": {"filters": ["private_paths"]},
        "django.server": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["private_paths"],
        },
    },
}

# Demo data: the password of the demo accounts made by `manage.py seed_demo`.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="retrowalk-demo")
