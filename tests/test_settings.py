"""The settings module read in a fresh interpreter with a given environment, as a deployment
would start it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRINT = (
    "import json, rehab.settings as s; print(json.dumps({'broker': s.CELERY_BROKER_URL, "
    "'cache': s.CACHES['default']['BACKEND'], 'db': s.DATABASES['default']['ENGINE'], "
    "'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'email': s.EMAIL_BACKEND, "
    "'mail_path': str(getattr(s, 'EMAIL_FILE_PATH', ''))}))"
)


def load(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update(VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_embedded_defaults_need_no_services(tmp_path):
    result = load(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["broker"] == "filesystem://"
    assert values["db"] == "django.db.backends.sqlite3"
    assert values["debug"] is False
    assert values["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert values["mail_path"] == str(tmp_path / "mail")
    # A secret key was made for this installation and is kept private.
    key = tmp_path / "secret_key"
    assert len(key.read_text()) >= 50
    assert oct(key.stat().st_mode & 0o777) == "0o600"


def test_redis_url_makes_redis_the_broker_and_the_cache(tmp_path):
    values = json.loads(load(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3").stdout)
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_database_url_and_hosts_come_from_the_environment(tmp_path):
    result = load(tmp_path, DATABASE_URL="postgres://u:p@db:5432/x", ALLOWED_HOSTS="a.org,b.org")
    values = json.loads(result.stdout)
    assert values["db"] == "django.db.backends.postgresql"
    assert values["hosts"] == ["a.org", "b.org"]


@pytest.mark.parametrize(
    "name",
    ["DEBUG", "SECURE_COOKIES", "CELERY_TASK_ALWAYS_EAGER", "WEBHOOKS_ALLOW_PRIVATE_NETWORKS"],
)
def test_a_misspelt_boolean_fails_loudly_at_start_up(tmp_path, name):
    result = load(tmp_path, **{name: "ture"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_an_absolute_mail_folder_stays_absolute(tmp_path):
    values = json.loads(load(tmp_path, EMAIL_URL=f"filemail://{tmp_path}/outbox").stdout)
    assert values["mail_path"] == f"{tmp_path}/outbox"


@pytest.mark.parametrize(("raw", "days"), [("", None), ("365", 365), (" 2555 ", 2555)])
def test_audit_retention_is_kept_for_ever_unless_set(tmp_path, raw, days):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update(VAR_DIR=str(tmp_path), AUDIT_RETENTION_DAYS=raw)
    result = subprocess.run(
        [sys.executable, "-c", "import rehab.settings as s; print(s.AUDIT_RETENTION_DAYS)"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(days)


@pytest.mark.parametrize("raw", ["forever", "0", "-5", "1.5"])
def test_a_malformed_audit_retention_fails_at_start_up(tmp_path, raw):
    result = load(tmp_path, AUDIT_RETENTION_DAYS=raw)
    assert result.returncode != 0
    assert "AUDIT_RETENTION_DAYS" in result.stderr


def _site_url(tmp_path, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "SITE_URL", "PORT"}
    }
    clean.update(VAR_DIR=str(tmp_path), **env)
    result = subprocess.run(
        [sys.executable, "-c", "import rehab.settings as s; print(s.SITE_URL)"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_links_in_e_mails_point_at_the_port_the_server_was_started_on(tmp_path):
    assert _site_url(tmp_path) == "http://127.0.0.1:8000"
    assert _site_url(tmp_path, PORT="8801") == "http://127.0.0.1:8801"
    # A deployment's public address wins over the port.
    assert _site_url(tmp_path, PORT="8801", SITE_URL="https://rehab.example.org/") == (
        "https://rehab.example.org"
    )


def test_make_run_hands_the_web_port_to_the_worker_as_site_url():
    # honcho gives the worker PORT+100, so the worker cannot derive the address from its own
    # PORT: `make run` passes the web server's on.
    recipe = subprocess.run(
        ["make", "-n", "run", "PORT=8801", "STAMP=/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "SITE_URL"},
    )
    command = recipe.stdout.replace("\\\n", " ")
    line = next(line for line in command.splitlines() if "honcho start" in line)
    assert "SITE_URL=${SITE_URL:-http://127.0.0.1:8801}" in line


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("PORTAL_REMEMBER_DAYS", "-1"),
        ("PORTAL_KEPT_FORM_HOURS", "0"),
        ("QUESTIONNAIRE_DRAFT_DAYS", "0"),
        ("PORTAL_REMEMBER_DAYS", "x"),
    ],
)
def test_a_bad_portal_sign_in_figure_fails_at_start_up(tmp_path, name, raw):
    result = load(tmp_path, **{name: raw})
    assert result.returncode != 0
    assert name in result.stderr or "invalid literal" in result.stderr
