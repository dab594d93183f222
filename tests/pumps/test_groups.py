"""The Pharmacist group's pumps permissions (pumps.groups), granted after every migrate: a pharmacist
opens the kit alerts and the kits and pumps they may see in the admin with the group alone; plain
staff still cannot."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from pumps.groups import PHARMACIST_PUMP_PERMISSIONS
from rx.access import PHARMACIST_GROUP
from tests.core.factories import UserFactory
from tests.pumps.fixtures import pharmacist

pytestmark = pytest.mark.django_db


def test_the_pharmacist_group_holds_the_pumps_permissions_after_migrate():
    group = Group.objects.get(name=PHARMACIST_GROUP)
    held = set(group.permissions.filter(content_type__app_label="pumps").values_list("codename", flat=True))
    assert held == set(PHARMACIST_PUMP_PERMISSIONS)
    # rx's own grants are still there.
    assert group.permissions.filter(content_type__app_label="rx", codename="view_prescription").exists()


@pytest.mark.parametrize("name", ["kitalert", "kitorder", "standingorder", "kitalertescalation", "pump"])
def test_a_pharmacist_opens_the_pumps_back_office_with_the_group_alone(client, name):
    client.force_login(pharmacist())
    assert client.get(reverse(f"admin:pumps_{name}_changelist")).status_code == 200


def test_plain_staff_still_cannot(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:pumps_kitalert_changelist")).status_code == 403
