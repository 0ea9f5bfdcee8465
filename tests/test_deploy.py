"""The production shape, as the README tells an operator to run it: its `.env`, read through
docker-compose.yml's own interpolation, into settings loaded by a fresh interpreter (docker
cannot run here, so the compose file is read with PyYAML and its commands run directly)."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def readme_env() -> dict[str, str]:
    """The `.env` of the README's "Deploying with docker compose", its <placeholders> filled
    as an operator would."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"cat > \.env <<'ENV'\n(.*?)\nENV\n", readme, re.S)
    assert block, "the README shows the production .env"
    values = {}
    for line in block.group(1).splitlines():
        name, _, value = line.partition("=")
        if re.fullmatch(r"<.*>", value):
            value = secrets.token_hex(32)  # letters and digits: safe inside a URL too
        values[name] = value
    return values


def interpolate(value, dotenv: dict[str, str]) -> str:
    """docker compose's ${NAME}, ${NAME:-default}, ${NAME:?error} and $$."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if dotenv.get(name):
            return dotenv[name]
        if op == ":?":
            raise AssertionError(f"compose refuses to start without {name}: {arg}")
        return arg or ""

    return re.sub(r"\$\$|\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, str(value))


def service(name: str) -> dict:
    return COMPOSE["services"][name]


def compose_environment(name: str, dotenv: dict[str, str]) -> dict[str, str]:
    return {k: interpolate(v, dotenv) for k, v in service(name)["environment"].items()}


def settings_env(tmp_path, name: str = "web", **overrides) -> dict[str, str]:
    """The environment the service's container gets, on this machine (VAR_DIR and MEDIA_ROOT
    under tmp_path instead of /app/var)."""
    # Not the test process's own: pytest-playwright sets DJANGO_ALLOW_ASYNC_UNSAFE, which
    # check --deploy rightly refuses, and no container has it.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_")) and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(compose_environment(name, readme_env()))
    env.update(VAR_DIR=str(tmp_path), MEDIA_ROOT=str(tmp_path / "media"), **overrides)
    return env


def run_settings(env: dict[str, str], expression: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", f"import rehab.settings as s; print({expression})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def free_port() -> int:
    for port in range(17700, 17800):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError("no free port in 17700-17799")


def test_check_deploy_is_clean_with_the_readmes_production_env(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=settings_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_redirects_to_https_and_asks_browsers_to_stay_there(tmp_path):
    values = run_settings(
        settings_env(tmp_path),
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS",
    )
    assert values == "True 31536000 True"
    # Each can be set on its own, e.g. a short HSTS while trying HTTPS out.
    tried = settings_env(tmp_path, SECURE_HSTS_SECONDS="3600", SECURE_SSL_REDIRECT="false")
    assert run_settings(tried, "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS") == "False 3600"


def test_make_run_over_plain_http_is_not_redirected(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "REDIS_"))}
    env["VAR_DIR"] = str(tmp_path)
    assert run_settings(env, "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS") == "False 0"


def test_the_web_healthcheck_passes_with_any_allowed_hosts(tmp_path):
    """Docker asks http://127.0.0.1:8000/healthz from inside the container: neither a host
    name the deployment serves nor HTTPS. gunicorn runs with the README's production settings
    (ALLOWED_HOSTS=example.org, SSL redirect on) and the compose file's own healthcheck
    command must pass against it."""
    port = free_port()
    env = settings_env(
        tmp_path,
        ALLOWED_HOSTS="example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "rehab.wsgi:application", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        test = service("web")["healthcheck"]["test"]
        assert test[0] == "CMD"
        command = [part.replace("8000", str(port)) for part in test[1:]]
        command[0] = sys.executable if command[0] == "python" else command[0]
        deadline = time.monotonic() + 90  # gunicorn imports Django first: slow on a busy machine
        while True:
            check = subprocess.run(command, env=env, capture_output=True, text=True)
            if check.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert check.returncode == 0, check.stderr[-2000:]
        # The same address for any other page is still refused: only the probe is let through.
        other = [*command[:-1], command[-1].replace("/healthz", "/clinic/login/")]
        refused = subprocess.run(other, env=env, capture_output=True, text=True)
        assert refused.returncode != 0
        assert "400" in refused.stderr
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_web_port_is_published_on_the_loopback_only_by_default():
    assert service("web")["ports"] == ["127.0.0.1:${WEB_PORT:-8000}:8000"]
    for name, definition in COMPOSE["services"].items():
        if name != "web":
            assert "ports" not in definition, f"{name} is published"


def test_redis_needs_a_password_and_the_apps_use_it(tmp_path):
    dotenv = readme_env()
    assert dotenv.get("REDIS_PASSWORD"), "the README's .env sets REDIS_PASSWORD"
    redis = service("redis")
    command = " ".join(interpolate(part, dotenv) for part in redis["command"])
    assert "--requirepass" in command
    env = {k: interpolate(v, dotenv) for k, v in redis.get("environment", {}).items()}
    assert dotenv["REDIS_PASSWORD"] in command + " ".join(env.values())
    # The healthcheck authenticates and looks for PONG: redis-cli exits 0 on NOAUTH too.
    healthcheck = " ".join(redis["healthcheck"]["test"])
    assert "REDISCLI_AUTH" in healthcheck
    assert "PONG" in healthcheck
    with pytest.raises(AssertionError, match="REDIS_PASSWORD"):
        compose_environment("web", {k: v for k, v in dotenv.items() if k != "REDIS_PASSWORD"})
    url = compose_environment("worker", dotenv)["REDIS_URL"]
    assert url.startswith(f"redis://:{dotenv['REDIS_PASSWORD']}@redis:6379/")


def test_the_broker_and_the_cache_use_separate_redis_databases(tmp_path):
    values = run_settings(
        settings_env(tmp_path), "s.CELERY_BROKER_URL, s.CACHES['default']['LOCATION']"
    )
    broker, cache = values.split()
    assert broker.rsplit("/", 1)[0] == cache.rsplit("/", 1)[0]  # same server and password
    assert broker.rsplit("/", 1)[1] != cache.rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("broker", "cache"),
    [
        ("redis://:pw@redis:6379/0", "redis://:pw@redis:6379/1"),
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379/7?timeout=5", "redis://127.0.0.1:6379/8?timeout=5"),
        # The last of Redis' 16 databases has no next one: the one before it.
        ("redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/14"),
    ],
)
def test_the_cache_database_is_derived_from_the_brokers(tmp_path, broker, cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
    env.update(VAR_DIR=str(tmp_path), REDIS_URL=broker)
    assert run_settings(env, "s.CACHES['default']['LOCATION']") == cache
    env["REDIS_CACHE_URL"] = "redis://cache.internal:6379/3"
    assert run_settings(env, "s.CACHES['default']['LOCATION']") == env["REDIS_CACHE_URL"]


def test_beats_healthcheck_fails_when_the_schedule_file_is_stale(tmp_path):
    beat = service("beat")
    schedule = re.search(r"--schedule=(\S+)", " ".join(beat["command"])).group(1)
    test = beat["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL"
    script = test[1].replace("$$", "$").replace(schedule, str(tmp_path / "schedule"))

    def healthy() -> bool:
        return subprocess.run(["sh", "-c", script], capture_output=True).returncode == 0

    assert not healthy()  # no file: beat never started
    (tmp_path / "schedule").write_bytes(b"entries")
    assert healthy()
    stale = time.time() - 15 * 60
    os.utime(tmp_path / "schedule", (stale, stale))
    assert not healthy()  # present but not written for 15 minutes: beat is stuck
    # Beat wakes at least this often, and writes the file at most 3 minutes after a wake-up
    # (celery's sync_every), so a live beat's file is never older than the check allows.
    assert "--max-interval=60" in beat["command"]


def seconds(duration: str) -> int:
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", duration))


def test_a_stopping_worker_has_time_to_finish_the_longest_task(tmp_path):
    from rehab import tasks

    limits = run_settings(settings_env(tmp_path, "worker"), "s.CELERY_TASK_TIME_LIMIT")
    longest = max(int(limits), tasks.report_render.time_limit)
    grace = seconds(service("worker")["stop_grace_period"])
    assert grace > longest


def test_secrets_in_env_stay_out_of_the_image_and_the_repository():
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in dockerignore
    assert ".env.*" in dockerignore
    for name in (".env", ".env.production"):
        ignored = subprocess.run(["git", "check-ignore", "--no-index", "-q", name], cwd=ROOT)
        assert ignored.returncode == 0, f"git would offer to commit {name}"


def test_the_nightly_run_has_a_queue_and_a_worker_of_its_own():
    """Reminders and alerts never wait behind the nightly progression batches: compose runs a
    worker for each queue, and `make run`'s one worker takes both."""
    nightly = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert nightly == {settings.NIGHTLY_QUEUE} != {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert set(settings.CELERY_TASK_ROUTES) == {
        "rehab.tasks.progression_nightly",
        "rehab.tasks.progression_evaluate_batch",
    }

    def queues(command: list[str]) -> str:
        return command[command.index("-Q") + 1]

    assert queues(service("worker")["command"]) == settings.CELERY_TASK_DEFAULT_QUEUE
    assert queues(service("worker-nightly")["command"]) == settings.NIGHTLY_QUEUE
    procfile = (ROOT / "Procfile.dev").read_text().splitlines()
    worker = next(line for line in procfile if line.startswith("worker:")).split()
    assert set(queues(worker).split(",")) == {
        settings.CELERY_TASK_DEFAULT_QUEUE,
        settings.NIGHTLY_QUEUE,
    }
