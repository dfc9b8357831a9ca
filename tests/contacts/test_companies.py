"""Which company a lead becomes: the one matcher the conversion and its previews share."""

import pytest

from leads.admin.actions import conversion_preview
from leads.models import Lead
from tests.factories import CompanyFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ({"website": "https://www.engines.example/about", "company": "Other Name"}, "by_domain"),
        ({"website": "", "email": "ada@engines.example", "company": ""}, "by_domain"),
        ({"website": "", "email": "ada@gmail.com", "company": "  ANALYTICAL engines "}, "by_name"),
        ({"website": "https://unknown.example", "company": "analytical engines"}, "by_name"),
        ({"website": "", "email": "ada@gmail.com", "company": "Nobody Ltd"}, None),
    ],
)
def test_the_preview_names_the_company_the_conversion_attaches(tenant, details, expected):
    companies = {
        "by_domain": CompanyFactory(tenant=tenant, name="Engines", domain="engines.example"),
        "by_name": CompanyFactory(tenant=tenant, name="Analytical Engines", domain=""),
    }
    lead = LeadFactory(tenant=tenant, **{"email": "ada@gmail.com", **details})

    previewed = conversion_preview([lead])[0]["company"]
    result = Lead.objects.convert(lead=lead, create_deal=False)

    if expected is None:
        assert previewed is None and result.company_id not in {c.pk for c in companies.values()}
    else:
        assert previewed == companies[expected]
        assert result.company_id == companies[expected].pk
