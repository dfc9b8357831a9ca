"""Every API operation the schema lists, fed the inputs that crashed endpoints before (issue 12, items 2 and 5):
NUL characters, JSON nested 20,000 deep, huge numbers, dates past the last UTC instant, invalid UTF-8 and a
10 MB body. A body is refused with a JSON 4xx and nothing is written; a filter value is a 200 or a 400
naming it (a `page` that is not there is the list's 404), never a 5xx.

The operations come from /api/schema/, so a new endpoint is walked without touching this file.
"""

import json

import pytest
from django.test import Client, override_settings

from contacts.models import Company, Contact, Deal
from crm.choices import Role
from crm.models import Activity, Event, User, WebhookDelivery, WebhookEndpoint
from leads.models import Channel, Lead, Sequence, SequenceStep
from tests.api_ids import api_id
from tests.conftest import api_client_for
from tests.factories import (
    ActivityFactory,
    ChannelFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HUGE = 10**30
OVERFLOWING_DATE = "9999-12-31T23:59:59-12:00"
NO_SUCH_ID = "0190b2a4-5c1e-7d3f-9a0b-1c2d3e4f5a6b"  # well-formed, no row's
BODY_METHODS = {"post", "put", "patch"}
WRITTEN = (Lead, Sequence, SequenceStep, Contact, Company, Deal, Activity, Event, WebhookEndpoint, WebhookDelivery, User,
           Channel)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    # Read once: the schema is the same for every workspace and test.
    with django_db_blocker.unblock():
        return Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.fixture
def operations(schema):
    return [
        (path, method, operation)
        for path, operations in schema["paths"].items() if path.startswith("/api/v1/")
        for method, operation in operations.items()
    ]


@pytest.fixture
def schema_components(schema):
    return schema["components"]["schemas"]


@pytest.fixture
def api(tenant):
    """A tenant admin's token: every operation, webhook endpoints included, is open to them."""
    return api_client_for(UserFactory(tenant=tenant, username="ada-admin", role=Role.ADMIN))


@pytest.fixture
def rows(tenant, manager):
    lead = LeadFactory(tenant=tenant, owner=manager)
    contact = ContactFactory(tenant=tenant, owner=manager)
    return {
        "leads": lead,
        "contacts": contact,
        "companies": CompanyFactory(tenant=tenant, owner=manager),
        "deals": DealFactory(tenant=tenant, owner=manager, contact=contact),
        "activities": ActivityFactory(lead=lead, actor=manager),
        "users": UserFactory(tenant=tenant, username="corpus-rep"),
        "sequences": Sequence.objects.create(tenant=tenant, name="Corpus sequence"),
        "webhook-endpoints": WebhookEndpoint.objects.create(tenant=tenant, url="https://hooks.example.com/crm",
                                                            secret="whsec_corpus"),
        "channels": ChannelFactory(tenant=tenant, name="Website"),
    }


def _url(path: str, rows: dict) -> str:
    resource = path.split("/")[3]
    if "{id}" in path:  # a resource without detail routes (privacy requests) needs no row
        path = path.replace("{id}", api_id(rows[resource]))
    return path.replace("{delivery_id}", NO_SUCH_ID)


def _fields(operation: dict, components: dict) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    return list(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}))


def _snapshot() -> list:
    return [sorted(model.objects.values_list("pk", *[f.attname for f in model._meta.concrete_fields[1:]]), key=repr)
            for model in WRITTEN]


def _each_field(value):
    return lambda fields: json.dumps({name: value for name in fields} or {"x": value}).encode()


BODIES = {
    "nul in every string": lambda fields: json.dumps({name: "a\x00b" for name in fields} or {"x": "a\x00b"}).encode(),
    "nul in a key": lambda fields: b'{"a\\u0000b": 1}',
    "json nested 20,000 deep": lambda fields: b"[" * 20_000 + b"]" * 20_000,
    "objects nested 20,000 deep": lambda fields: b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    "huge number in every field": _each_field(HUGE),
    "huge negative number in every field": _each_field(-HUGE),
    "overflowing date in every field": _each_field(OVERFLOWING_DATE),
    "invalid utf-8": lambda fields: b'{"' + (fields[0] if fields else "x").encode() + b'": "a\xff\xfeb"}',
}


@pytest.mark.parametrize("case", list(BODIES))
def test_a_nasty_body_is_a_json_4xx_on_every_operation_and_writes_nothing(api, rows, operations, schema_components,
                                                                          case):
    before = _snapshot()
    answers = {}
    for path, method, operation in operations:
        if method not in BODY_METHODS or "requestBody" not in operation:
            continue
        body = BODIES[case](_fields(operation, schema_components))
        response = api.generic(method.upper(), _url(path, rows), body, content_type="application/json")
        answers[f"{method.upper()} {path}"] = response.status_code
        assert 400 <= response.status_code < 500, (case, method, path, response.status_code, response.content[:300])
        assert response["Content-Type"] == "application/json", (case, method, path)
        assert isinstance(response.json(), dict)
    assert len(answers) >= 15  # the walk reached the API's operations
    assert _snapshot() == before


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_621_440)  # the default, whatever a deployment sets
def test_a_10_mb_body_is_413_on_every_operation(api, rows, operations):
    body = b'{"message": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    before = _snapshot()
    for path, method, _operation in operations:
        if method not in BODY_METHODS:
            continue
        response = api.generic(method.upper(), _url(path, rows), body, content_type="application/json")
        assert response.status_code == 413, (method, path, response.status_code)
        assert "detail" in response.json()
    assert _snapshot() == before


QUERIES = {
    "nul": "a%00b",
    "huge number": str(HUGE),
    "huge negative number": str(-HUGE),
    "overflowing date": "9999-12-31T23%3A59%3A59-12%3A00",
    "early date past the first instant": "0001-01-01T00%3A00%3A00%2B12%3A00",
    "invalid utf-8": "a%FF%FEb",
}


@pytest.mark.parametrize("case", list(QUERIES))
def test_a_nasty_filter_value_is_a_200_or_a_400_naming_it(api, rows, operations, case):
    value = QUERIES[case]
    for path, method, operation in operations:
        params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for name in params:
            response = api.generic(method.upper(), f"{_url(path, rows)}?{name}={value}")
            status = response.status_code
            allowed = {200, 400, 404} if name == "page" else {200, 400}  # a page that is not there is 404
            assert status in allowed, (case, method, path, name, status, response.content[:300])
            assert response["Content-Type"] == "application/json", (case, path, name)
            if status == 400:
                assert name in response.json() or "detail" in response.json(), (case, path, name, response.json())
