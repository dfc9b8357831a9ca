"""Sign-in lockout (django-axes, enabled as in production): per username and per address."""

import pytest
from django.core.management import call_command

from crm.choices import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
RIGHT = "pw-for-tests-123"  # the factories' password


@pytest.fixture
def ada(tenant):
    return UserFactory(tenant=tenant, username="ada", role=Role.ADMIN)


def sign_in(client, username, password, address="192.0.2.10"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_after_five_wrong_passwords_even_the_right_one_is_refused_with_a_clear_message(client, ada, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    answers = [sign_in(client, "ada", f"wrong-{n}") for n in range(5)]

    right = sign_in(client, "ada", RIGHT)

    assert [a.status_code for a in answers[:4]] == [200] * 4  # the login form again, with its error
    assert answers[4].status_code == 429
    assert right.status_code == 429
    text = " ".join(right.content.decode().split())
    assert "Too many failed sign-ins for “ada” or from your address (5 in a row)" in text
    assert "Signing in is locked for 15 minutes, even with the right password" in text
    assert not signed_in(client)


def test_one_address_trying_many_usernames_is_locked_out(client, ada):
    for n in range(5):
        sign_in(client, f"someone-{n}", "guess")

    assert sign_in(client, "ada", RIGHT).status_code == 429
    assert not signed_in(client)
    assert sign_in(client, "ada", RIGHT, address="192.0.2.99").status_code == 302, "another address signs in"


def test_one_username_tried_from_many_addresses_is_locked_out(client, ada):
    for n in range(5):
        sign_in(client, "ada", "guess", address=f"198.51.100.{n}")

    assert sign_in(client, "ada", RIGHT, address="203.0.113.1").status_code == 429
    assert not signed_in(client)


def test_fewer_failures_than_the_limit_then_the_right_password_signs_in_and_clears_the_count(client, ada):
    for n in range(4):
        sign_in(client, "ada", f"wrong-{n}")

    assert sign_in(client, "ada", RIGHT).status_code == 302
    assert signed_in(client)
    client.logout()
    for n in range(4):
        assert sign_in(client, "ada", f"wrong-again-{n}").status_code == 200
    assert sign_in(client, "ada", RIGHT).status_code == 302


def test_an_operator_unlocks_a_username(client, ada):
    for n in range(5):
        sign_in(client, "ada", "guess", address=f"198.51.100.{n}")

    call_command("axes_reset_username", "ada")

    assert sign_in(client, "ada", RIGHT, address="203.0.113.1").status_code == 302


def test_the_address_is_the_one_our_proxy_saw(client, ada, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        # Forged left-hand entries differ each time; the address our proxy appended does not.
        client.post(LOGIN, {"username": f"x{n}", "password": "guess"}, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}, 203.0.113.9")

    locked = client.post(LOGIN, {"username": "ada", "password": RIGHT}, HTTP_X_FORWARDED_FOR="10.1.1.1, 203.0.113.9")
    other = client.post(LOGIN, {"username": "ada", "password": RIGHT}, HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.10")

    assert (locked.status_code, other.status_code) == (429, 302)
