"""The system check of the jamjar settings: an unknown key or a bad value is an error.

tests/site/test_deploy.py checks the same from the environment, in a real `manage.py check`.
"""

from __future__ import annotations

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def jamjar_errors() -> list[str]:
    return [
        f"{message.id}: {message.msg}"
        for message in checks.run_checks()
        if (message.id or "").startswith("jamjar.")
    ]


def test_the_shipped_defaults_pass():
    assert jamjar_errors() == []


def test_an_unknown_jamjar_key_is_an_error(settings):
    settings.JAMJAR = {"max_listen_s": 20.0, "max_listen_seconds": 20.0}
    assert jamjar_errors() == ["jamjar.E001: JAMJAR: unknown JAMJAR key(s): max_listen_seconds"]


def test_an_unknown_fingerprint_key_is_an_error(settings):
    settings.JAMJAR_FINGERPRINT = {"hop_size": 128}
    assert jamjar_errors() == ["jamjar.E001: JAMJAR_FINGERPRINT: unknown JAMJAR_FINGERPRINT key(s): hop_size"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"top_n": 0}, "top_n must be positive, not 0"),
        ({"min_margin": "2"}, "min_margin must be float, not '2'"),
        ({"api_open": "yes"}, "api_open must be bool, not 'yes'"),
        ({"live_recognize_rate": "30 a minute"}, "live_recognize_rate '30 a minute': write it as N/second"),
        ({"min_listen_s": 20.0, "max_listen_s": 10.0}, "min_listen_s is above max_listen_s"),
    ],
)
def test_a_bad_service_value_is_an_error(settings, overrides, message):
    settings.JAMJAR = overrides
    errors = jamjar_errors()
    assert len(errors) == 1 and errors[0].startswith("jamjar.E001: JAMJAR: "), errors
    assert message in errors[0]


def test_a_bad_fingerprint_value_is_an_error(settings):
    settings.JAMJAR_FINGERPRINT = {"hop": -256}
    errors = jamjar_errors()
    assert len(errors) == 1 and errors[0].startswith("jamjar.E001: JAMJAR_FINGERPRINT: "), errors
    assert "hop" in errors[0]


def test_both_dicts_are_checked_at_once(settings):
    settings.JAMJAR = {"nope": 1}
    settings.JAMJAR_FINGERPRINT = {"window": 0}
    assert [error.split(": ", 2)[1] for error in jamjar_errors()] == ["JAMJAR_FINGERPRINT", "JAMJAR"]


def test_manage_py_check_refuses_bad_settings(settings):
    settings.JAMJAR = {"max_listen_seconds": 20.0}
    with pytest.raises(SystemCheckError, match=r"jamjar\.E001.*max_listen_seconds"):
        call_command("check")
