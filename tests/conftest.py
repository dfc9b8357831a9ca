import os

import pytest
from django.conf import settings as django_settings
from django.db import connection
from rest_framework.test import APIClient

from crm.celery import app as celery_app

from tests.crm.events_support import RABBITMQ_URL, rabbitmq_reachable
from tests.factories import ChannelFactory, ManagerFactory, TenantFactory, TokenFactory, UserFactory


# The test client and the browser tests' live server speak plain HTTP, as ALLOW_HTTP=1 would
# allow; tests/crm/test_deploy_defaults.py checks the HTTPS defaults themselves.
django_settings.SECURE_SSL_REDIRECT = False
django_settings.SESSION_COOKIE_SECURE = django_settings.CSRF_COOKIE_SECURE = False
django_settings.SECURE_HSTS_SECONDS = 0

# Tasks run in the caller, in-process (tests that need a real worker and broker are marked rabbitmq);
# events go to an in-memory broker unless a test points the relay at RabbitMQ.
django_settings.EVENTS_BROKER_URL = "memory://"
celery_app.conf.update(broker_url="memory://", broker_transport_options={}, task_always_eager=True,
                       task_eager_propagates=True)


def pytest_collection_modifyitems(config, items):
    skip_rabbitmq = None if rabbitmq_reachable() else pytest.mark.skip(reason=f"needs RabbitMQ at {RABBITMQ_URL}")
    for item in items:
        if "rabbitmq" in item.keywords and skip_rabbitmq:
            item.add_marker(skip_rabbitmq)
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test is a missing check, not a pass (.ci/run deselects what a run cannot do).
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if os.environ.get("CI") and reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        reporter.write_line("CI: tests were skipped; failing the run (a skip in CI is a failure).", red=True)
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Logins and user factories hash passwords; the production hasher's rounds are most of a test's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Acme Sales", slug="acme")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Globex Sales", slug="globex")


@pytest.fixture
def rep(tenant):
    # A fixed name: pages greet the signed-in user, and tests assert whose names a page does not show.
    return UserFactory(tenant=tenant, username="rita", first_name="Rita", last_name="Rep")


@pytest.fixture
def manager(tenant):
    return ManagerFactory(tenant=tenant, username="manny")


@pytest.fixture
def channel(tenant):
    return ChannelFactory(tenant=tenant, name="Website")


def api_client_for(user) -> APIClient:
    client = APIClient()
    token = TokenFactory(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


@pytest.fixture
def api(manager):
    """An API client signed in with a manager's bearer token."""
    return api_client_for(manager)


@pytest.fixture
def anon_api():
    return APIClient()
