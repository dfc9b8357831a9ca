import pytest

from crm.choices import Role
from leads.choices import ChannelKind, LeadSource
from tests.factories import ChannelFactory, UserFactory
from tests.leads.integrations.fake_graph import FakeGraph

APP_SECRET = "s3cret-app-secret-0001"
PAGE_TOKEN = "EAAB-page-token-9999"
GOOGLE_KEY = "g00gle-key-abcdef-4321"


@pytest.fixture
def graph(settings):
    with FakeGraph() as fake:
        settings.FACEBOOK_GRAPH_URL = fake.url
        settings.FACEBOOK_FETCH_RETRY_DELAYS = [0.0, 0.0]
        settings.FACEBOOK_FETCH_TIMEOUT_SECONDS = 5
        yield fake


@pytest.fixture
def fb_channel(tenant):
    return ChannelFactory(
        tenant=tenant, name="Facebook page", kind=ChannelKind.FACEBOOK_LEAD_ADS, default_source=LeadSource.FACEBOOK_LEAD_AD,
        page_id="1001", app_secret=APP_SECRET, page_access_token=PAGE_TOKEN, verify_token="verify-me",
    )


@pytest.fixture
def google_channel(tenant):
    return ChannelFactory(
        tenant=tenant, name="Google lead form", kind=ChannelKind.GOOGLE_LEAD_FORM,
        default_source=LeadSource.GOOGLE_LEAD_FORM, google_key=GOOGLE_KEY,
    )


@pytest.fixture
def workspace_admin(tenant):
    return UserFactory(tenant=tenant, username="ada", role=Role.ADMIN, is_staff=True)
