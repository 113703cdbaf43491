"""Deployment: the README's production settings pass `check --deploy`; JAMJAR is checked at start-up."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.servers import ROOT

# Each test starts manage.py; tests/recognition/test_checks.py runs the same check in-process.
pytestmark = pytest.mark.slow


def readme_production_environment() -> dict[str, str]:
    """The variables the README's "Production server" example exports, placeholders filled in."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production server", 1)[1].split("```", 2)[1]
    variables = dict(
        re.findall(
            r"\b([A-Z_]+)=(\S+)",
            " ".join(line for line in section.splitlines() if line.startswith("export ")),
        )
    )
    assert {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_COOKIES", "SECURE_PROXY_SSL_HEADER"} <= set(
        variables
    )
    variables["SECRET_KEY"] = secrets.token_urlsafe(50)
    variables["DATABASE_URL"] = "sqlite:///:memory:"
    variables.pop("REDIS_URL", None)
    return variables


def manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "JAMJAR", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, "DJANGO_SETTINGS_MODULE": "jamjar_site.settings", **env},
    )


def test_check_deploy_is_clean_with_the_readmes_production_example():
    done = manage("check", "--deploy", "--fail-level", "WARNING", **readme_production_environment())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize(
    ("jamjar", "message"),
    [
        ('{"api_max_clip_bytes": -1}', "JAMJAR: api_max_clip_bytes must be positive, not -1"),
        ('{"max_sessions_per_client": "4"}', "JAMJAR: max_sessions_per_client must be int, not '4'"),
        ('{"live_recognize_rate": "lots"}', "JAMJAR: live_recognize_rate 'lots': write it as N/second"),
        ('{"max_listn_s": 20}', "JAMJAR: unknown JAMJAR key(s): max_listn_s"),
    ],
)
def test_a_bad_jamjar_value_is_a_start_up_error_naming_the_key(jamjar, message):
    done = manage("check", DEBUG="1", JAMJAR=jamjar)
    assert done.returncode != 0
    assert message in done.stderr


def test_invalid_json_in_jamjar_is_a_clear_error():
    done = manage("check", DEBUG="1", JAMJAR="{max_listen_s: 20}")
    assert done.returncode != 0
    assert "JAMJAR is not valid JSON" in done.stderr
    assert "JSONDecodeError" not in done.stderr.splitlines()[-1]


@pytest.mark.parametrize("value", ["-1", "soon", "nan"])
def test_a_bad_replica_lag_bound_is_a_start_up_error_naming_the_variable(value):
    done = manage("check", DEBUG="1", DATABASE_REPLICA_MAX_LAG_S=value)
    assert done.returncode != 0
    assert f"DATABASE_REPLICA_MAX_LAG_S={value!r}: expected a number of seconds, 0 or more" in done.stderr


@pytest.mark.parametrize("value", ["-1", "2.5", "soon"])
def test_a_bad_replica_pin_is_a_start_up_error_naming_the_variable(value):
    done = manage("check", DEBUG="1", DATABASE_REPLICA_PIN_S=value)
    assert done.returncode != 0
    assert f"DATABASE_REPLICA_PIN_S={value!r}: expected a whole number, 0 or more" in done.stderr
