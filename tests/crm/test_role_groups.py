"""The role groups a migration creates are there after a flush too (every transactional test flushes)."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from crm.roles import ROLE_GROUPS


@pytest.mark.django_db(transaction=True)
def test_the_role_groups_and_their_permissions_survive_a_flush():
    call_command("flush", "--noinput", verbosity=0)

    assert set(Group.objects.values_list("name", flat=True)) == set(ROLE_GROUPS.values())
    assert Group.objects.get(name="Sales rep").permissions.filter(codename="change_lead").exists()
    assert not Group.objects.get(name="Sales rep").permissions.filter(codename="delete_lead").exists()
