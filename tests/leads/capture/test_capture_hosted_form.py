"""The hosted form page `/f/<form_key>/` and the embed script it shares with customers' sites."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

EMBED_JS = Path(settings.BASE_DIR) / "static" / "crm" / "embed.js"


def test_the_hosted_page_renders_the_channels_form_with_the_embed_script(client, tenant):
    channel = ChannelFactory(tenant=tenant, name="Contact sales")

    response = client.get(f"/f/{channel.form_key}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-crm-form-key="{channel.form_key}"' in html and "data-crm-render" in html
    assert "/static/crm/embed.js" in html and 'data-crm-api="/"' in html
    assert "Contact sales" in html and "Acme Sales" in html


def test_the_hosted_page_may_be_framed_by_the_channels_sites_only(client, tenant):
    channel = ChannelFactory(tenant=tenant, allowed_origins=["https://www.acme.example/", "bad origin; script-src *"])

    response = client.get(f"/f/{channel.form_key}/")

    assert not response.has_header("X-Frame-Options")
    assert response["Content-Security-Policy"] == "frame-ancestors 'self' https://www.acme.example"


@pytest.mark.parametrize("active", [True, False])
def test_an_unknown_or_inactive_key_is_404(client, tenant, active):
    channel = ChannelFactory(tenant=tenant, is_active=active)
    key = channel.form_key if not active else "no-such-key"

    assert client.get(f"/f/{key}/").status_code == 404


def test_the_embed_script_is_small_and_needs_no_build():
    source = EMBED_JS.read_text()

    assert len(source.encode()) < 12 * 1024  # 10 KB until the form token and the refused-site check
    for needed in ("Idempotency-Key", "X-Form-Key", "utm_source", "source_url", "referrer", "website_url",
                   "data-crm-api", "data-crm-render", "data-crm-token", "/token", "_token",
                   "credentials: \"omit\""):
        assert needed in source, needed
