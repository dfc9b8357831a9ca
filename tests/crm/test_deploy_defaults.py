"""Production settings are safe by default: HTTPS only unless ALLOW_HTTP says otherwise."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps({k: getattr(s, k) for k in "
    "['SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_AGE']}))"
)


def run(args, **env):
    environ = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "ALLOW_HTTP", "SESSION_HOURS", "SECRET_KEY"}}
    environ.update(DJANGO_SETTINGS_MODULE="crm.settings", **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120)


def settings_with(**env) -> dict:
    result = run(["-c", PRINT_SETTINGS], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_debug_off_https_is_required_and_cookies_are_secure():
    values = settings_with(DEBUG="0")

    assert values["SECURE_SSL_REDIRECT"] and values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600


@pytest.mark.parametrize("env", [{"DEBUG": "0", "ALLOW_HTTP": "1"}, {"DEBUG": "1"}])
def test_allow_http_or_debug_serves_plain_http(env):
    values = settings_with(**env)

    assert not values["SECURE_SSL_REDIRECT"] and not values["SESSION_COOKIE_SECURE"] and not values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_a_sign_in_lasts_12_hours_unless_configured():
    assert settings_with(DEBUG="0")["SESSION_COOKIE_AGE"] == 12 * 3600
    assert settings_with(DEBUG="0", SESSION_HOURS="2")["SESSION_COOKIE_AGE"] == 2 * 3600


def test_check_deploy_is_clean_with_debug_off_and_a_secret_key():
    result = run(["manage.py", "check", "--deploy"], DEBUG="0", SECRET_KEY="x" * 20 + "-a-long-random-production-key-1234567890")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000)
def test_plain_http_is_redirected_to_https_but_health_checks_are_not(client):
    assert client.get("/admin/login/").status_code == 301
    assert client.get("/admin/login/")["Location"].startswith("https://")
    assert client.get("/health").status_code == 200
    assert client.get("/admin/login/", secure=True)["Strict-Transport-Security"].startswith("max-age=31536000")
