"""The API's OpenAPI schema as code generators and linters read it.

Writes the schema as `manage.py spectacular` serves it, lints it with Redocly's recommended rules
(.ci/redocly.yaml: all of them but the trailing-slash style), generates a typed client with
openapi-python-client (.ci/openapi-python-client.yaml), and fails on any lint error or any
generator warning. Given a live server (--url, --key: a clinic's API key), it then walks the
README's worked example through the generated client, so a schema that parses but lies (a null
it does not allow, a response it leaves out) fails here too.

    .venv/bin/python .ci/openapi_check.py OUT_DIR [--url http://127.0.0.1:8000 --key KEY]

Needs `npm ci --prefix .ci` (Redocly) and the dev dependencies (openapi-python-client). Each
tool's own output goes to a log in OUT_DIR; this prints one line a step."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import shutil
import subprocess
import sys
import uuid
import zoneinfo
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
REDOCLY = ROOT / ".ci" / "node_modules" / ".bin" / "redocly"
CLIENT_PACKAGE = "retrowalk_client"


class CheckFailed(Exception):
    pass


def run(command: list[str], log: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    log.write_text(f"$ {' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}")
    return result


def dump_schema(out: Path) -> Path:
    schema = out / "openapi.yaml"
    result = run(
        [str(BIN / "python"), "manage.py", "spectacular", "--file", str(schema), "--validate",
         "--fail-on-warn"],
        out / "spectacular.log",
    )  # fmt: skip
    if result.returncode != 0:
        raise CheckFailed(f"manage.py spectacular failed (see {out / 'spectacular.log'})")
    print(f"schema: written to {schema.relative_to(ROOT)}, drf-spectacular gave no warning")
    return schema


def lint(schema: Path, out: Path) -> None:
    if not REDOCLY.exists():
        raise CheckFailed("Redocly's CLI is not installed: npm ci --prefix .ci")
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    command = [str(REDOCLY), "lint", "--config", ".ci/redocly.yaml", "--format=json", str(schema)]
    result = run(command, out / "redocly.log", env=env)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise CheckFailed(f"redocly lint gave no report (see {out / 'redocly.log'})") from exc
    totals = report["totals"]
    rules = Counter(f"{p['severity']} {p['ruleId']}" for p in report["problems"])
    detail = ", ".join(f"{n} {rule}" for rule, n in sorted(rules.items())) or "none"
    print(
        f"redocly lint (recommended, trailing slashes allowed): {totals['errors']} errors, "
        f"{totals['warnings']} warnings ({detail})"
    )
    if totals["errors"] or result.returncode != 0:
        raise CheckFailed(f"redocly lint found errors (see {out / 'redocly.log'})")


def generate(schema: Path, out: Path) -> Path:
    client = out / CLIENT_PACKAGE
    shutil.rmtree(client, ignore_errors=True)
    # The generator formats its output with ruff (post hooks): the project's own.
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = out / "openapi-python-client.log"
    result = run(
        [str(BIN / "openapi-python-client"), "generate", "--path", str(schema), "--meta", "none",
         "--config", ".ci/openapi-python-client.yaml", "--output-path", str(client),
         "--fail-on-warning"],
        log,
        env=env,
    )  # fmt: skip
    output = result.stdout + result.stderr
    # Each problem is a block headed "WARNING ..." or "ERROR ..."; a failed post hook (ruff)
    # is reported under the same "Warning(s) encountered" heading.
    warnings = sum(1 for line in output.splitlines() if line.startswith(("WARNING", "ERROR")))
    if ("Warning(s) encountered" in output or "Error(s) encountered" in output) and not warnings:
        warnings = 1
    print(f"openapi-python-client: {warnings} warnings, client in {client.relative_to(ROOT)}")
    if result.returncode != 0 or warnings:
        raise CheckFailed(f"openapi-python-client did not generate cleanly (see {log})")
    return client


def expect(response, status: int, what: str):
    if response.status_code != status:
        raise CheckFailed(
            f"worked example: {what} answered {int(response.status_code)}, not {status}: "
            f"{response.content[:300]!r}"
        )
    return response.parsed


def worked_example(client_dir: Path, url: str, key: str) -> None:
    """The README's worked example (REST API), step by step, through the generated client."""
    sys.path.insert(0, str(client_dir.parent))
    client_module = importlib.import_module(CLIENT_PACKAGE)

    def api(name: str):
        return importlib.import_module(f"{CLIENT_PACKAGE}.api.{name}")

    def model(name: str):
        return getattr(importlib.import_module(f"{CLIENT_PACKAGE}.models"), name)

    client = client_module.AuthenticatedClient(base_url=url, token=key, prefix="Api-Key")
    steps = 0

    # 1. A patient
    body = model("PatientCreateRequest").from_dict(
        {
            "first_name": "Jo",
            "last_name": "Bloggs",
            "condition": "knee_oa",
            "timezone": "Europe/London",
            "reminder_time": "08:30",
        }
    )
    patient = expect(
        api("patients.patients_create").sync_detailed(client=client, body=body), 201, "patient"
    )
    steps += 1

    # 2. The screening, every red-flag question answered: cleared.
    answers = {
        "unstable_cardiac_symptoms": False,
        "suspected_dvt": False,
        "fever_or_systemic_infection": False,
        "acute_vertigo": False,
        "unexplained_syncope": False,
        "weight_bearing_restriction": False,
        "falls_past_12_months": 0,
        "feels_unsteady": False,
        "worries_about_falling": False,
        "knee_effusion": "trace",
        "acute_injury_or_hot_joint": False,
        "locked_brace": False,
    }
    body = model("ScreeningCreateRequest").from_dict({"patient": patient.id, "answers": answers})
    screening = expect(
        api("screenings.screenings_create").sync_detailed(client=client, body=body),
        201,
        "screening",
    )
    if screening.verdict.status != "cleared":
        raise CheckFailed(f"worked example: the screening is {screening.verdict.status}")
    steps += 1

    # 3. The built-in knee OA protocol, assigned with an idempotency key; the retry returns the
    #    same plan. The plan's levels carry a null interval where a level has none.
    protocols = expect(
        api("protocols.protocols_list").sync_detailed(
            client=client, condition=model("ProtocolsListCondition")("knee_oa"), builtin=True
        ),
        200,
        "protocol list",
    )
    body = model("PlanCreateRequest").from_dict(
        {"patient": patient.id, "protocol": protocols.results[0].id, "auto_apply": True}
    )
    key_ = f"plan-{uuid.uuid4()}"
    create_plan = api("plans.plans_create").sync_detailed
    plan = expect(create_plan(client=client, body=body, idempotency_key=key_), 201, "plan")
    again = create_plan(client=client, body=body, idempotency_key=key_)
    if expect(again, 201, "plan retry").id != plan.id:
        raise CheckFailed("worked example: the plan's retry created another plan")
    plan = expect(api("plans.plans_retrieve").sync_detailed(client=client, id=plan.id), 200, "plan")
    if plan.prescription.number != 1:
        raise CheckFailed(f"worked example: the plan starts at level {plan.prescription.number}")
    steps += 1

    # 4. A session today (the patient's local date); its decision is null while the evaluation
    #    is pending. Its next-morning pain is refused until tomorrow (a field error).
    today = dt.datetime.now(zoneinfo.ZoneInfo("Europe/London")).date().isoformat()
    body = model("SessionCreateRequest").from_dict(
        {
            "plan": plan.id,
            "date": today,
            "minutes_done": 10,
            "speed_kmh": 1.5,
            "setting": "treadmill_both_handrails",
            "pain_before": 2,
            "pain_worst": 3,
            "pain_after": 2,
            "effort": 3,
        }
    )
    session = expect(
        api("sessions.sessions_create").sync_detailed(
            client=client, body=body, idempotency_key=f"session-{plan.id}-{today}"
        ),
        201,
        "session",
    )
    body = model("NextMorningPainRequest").from_dict({"pain_next_morning": 2})
    refusal = expect(
        api("sessions.sessions_next_morning_pain_create").sync_detailed(
            client=client, id=session.id, body=body
        ),
        400,
        "next-morning pain on the same day",
    )
    if "pain_next_morning" not in refusal.fields.additional_properties:
        raise CheckFailed(f"worked example: the refusal names {refusal.fields.to_dict()}")
    steps += 1

    # 5. The decisions on the plan (the session's may still be on its way: a worker takes it).
    expect(
        api("decisions.decisions_list").sync_detailed(client=client, plan=plan.id, ordering="-id"),
        200,
        "decision list",
    )
    steps += 1

    # And the PDF: requested (202), not ready yet without a worker: the 409 in the error shape.
    body = model("ReportCreateRequest").from_dict({"patient": patient.id, "audience": "clinician"})
    report = expect(
        api("reports.reports_create").sync_detailed(client=client, body=body), 202, "report"
    )
    download = api("reports.reports_download_retrieve").sync_detailed(client=client, id=report.id)
    if download.status_code == 200:
        if not download.parsed.payload.read(5) == b"%PDF-":
            raise CheckFailed("worked example: the download is not a PDF")
    elif expect(download, 409, "report download").code not in {
        "report_not_ready",
        "report_missing",
    }:
        raise CheckFailed(f"worked example: the download's 409 says {download.parsed.code}")
    steps += 1
    print(f"worked example through the generated client: {steps} steps passed against {url}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the schema, the client and the logs")
    parser.add_argument("--url", help="a live server's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--key", help="a clinic's API key on that server")
    args = parser.parse_args()
    if bool(args.url) != bool(args.key):
        parser.error("--url and --key go together")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        schema = dump_schema(out)
        lint(schema, out)
        client = generate(schema, out)
        if args.url:
            worked_example(client, args.url, args.key)
    except CheckFailed as exc:
        print(f"openapi check FAILED: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
