"""A start-up check that the jamjar settings are valid."""

from django.core.checks import Error, register

from . import conf


@register()
def check_jamjar_settings(app_configs, **kwargs):
    errors = []
    for name, read in (("JAMJAR_FINGERPRINT", conf.fingerprint_params), ("JAMJAR", conf.service_settings)):
        try:
            read()
        except (TypeError, ValueError) as exc:
            errors.append(Error(f"{name}: {exc}", id="jamjar.E001"))
    return errors
