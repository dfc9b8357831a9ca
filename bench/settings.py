"""Settings for benchmarks: the product's settings plus a bare comparison endpoint (bench/urls.py)."""

from crm.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
SECURE_SSL_REDIRECT = False  # requests in-process over plain HTTP (the settings now redirect to HTTPS by default)
