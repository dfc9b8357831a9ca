import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from rest_framework.test import APIClient

from crm.celery import app as celery_app
from crm.startup import SQLITE_ENGINE, create_local_folders
from tests.crm.events_support import RABBITMQ_URL, rabbitmq_reachable
from tests.factories import ApiTokenFactory, ChannelFactory, ManagerFactory, TenantFactory, UserFactory

# The test client and the browser tests' live server speak plain HTTP, as ALLOW_HTTP=1 would
# allow; tests/crm/test_deploy_defaults.py checks the HTTPS defaults themselves.
django_settings.SECURE_SSL_REDIRECT = False
django_settings.SESSION_COOKIE_SECURE = django_settings.CSRF_COOKIE_SECURE = False
django_settings.SECURE_HSTS_SECONDS = 0
# Every commit that writes an event kicks the relay at once (no burst sharing), so tests see each delivery.
django_settings.EVENTS_RELAY_KICK_SECONDS = 0

# Tasks run in the caller, in-process (tests that need a real worker and broker are marked rabbitmq);
# events go to an in-memory broker unless a test points the relay at RabbitMQ.
django_settings.EVENTS_BROKER_URL = "memory://"
celery_app.conf.update(broker_url="memory://", broker_transport_options={}, task_always_eager=True,
                       task_eager_propagates=True)


def pytest_configure(config):
    # What manage.py and wsgi.py do at startup (importing the settings creates no folder).
    create_local_folders()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    # SQLite: the test database is a file (not Django's shared in-memory database) so threaded tests
    # get real locking; one per process so two test runs on one machine never share it.
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == SQLITE_ENGINE:
        path = Path(django_settings.VAR_DIR) / f"test-{os.getpid()}.sqlite3"
        path.parent.mkdir(exist_ok=True)
        database.setdefault("TEST", {})["NAME"] = str(path)


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


@pytest.fixture(autouse=True)
def fresh_local_cache():
    # Counters (failed token attempts per address, form rate limits) live in the cache; on the
    # per-process memory cache they would carry from one test to the next. A shared Redis is left alone.
    yield
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture
def without_lockout(settings):
    """For tests that call `client.login()`: django-axes refuses an authenticate() without a request.

    (`force_login` skips authentication and needs nothing; tests/crm/test_lockout.py runs axes as in production.)
    """
    settings.AXES_ENABLED = False


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
    token = ApiTokenFactory(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.secret}")
    return client


def session_client_for(user) -> APIClient:
    """Signed in as from the admin: the way a platform user without a workspace (so without tokens) reaches the API."""
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def api(manager):
    """An API client signed in with a manager's bearer token."""
    return api_client_for(manager)


@pytest.fixture
def anon_api():
    return APIClient()
