import pytest


@pytest.fixture(autouse=True)
def enrichment_on(db, tenant):
    """Workspaces made by TenantFactory have enrichment off (tests/factories.py); these tests are about it."""
    tenant.enrichment_enabled = True
    tenant.save()
