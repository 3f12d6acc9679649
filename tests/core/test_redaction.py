"""Secrets never reach a log line or the console: URL passwords and API key secrets are masked."""

from __future__ import annotations

import logging

from prognos.redact import RedactingFilter, redact


def test_passwords_in_urls_are_masked_and_the_rest_kept():
    assert redact("postgresql://prognos:s3cr:et@db.example:5432/p") == (
        "postgresql://prognos:***@db.example:5432/p"
    )
    assert redact("mqtts://dev-7:hunter2@broker:8883") == "mqtts://dev-7:***@broker:8883"
    assert redact("postgresql://db.example/p") == "postgresql://db.example/p"  # nothing to hide


def test_api_key_secrets_and_password_parameters_are_masked():
    key = "pk_0a1b2c3d4e5f_Zm9vYmFyYmF6cXV4cXV1eHh4eHh4"
    assert redact(f"login with {key}") == "login with pk_0a1b2c3d4e5f_***"
    assert redact("host=db user=p password=s3cret dbname=x") == "host=db user=p password=*** dbname=x"


def test_the_log_filter_masks_formatted_records(caplog):
    log = logging.getLogger("prognos.test.redact")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        log.info("store at %s", "postgresql://u:topsecret@h/db")
    assert "topsecret" not in caplog.text and "postgresql://u:***@h/db" in caplog.text
