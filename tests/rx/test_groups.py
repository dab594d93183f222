"""The Pharmacist group (rx/groups.py), created with its admin permissions after every migrate."""

import pytest
from django.contrib.auth.models import Group


@pytest.mark.django_db
def test_pharmacist_group_exists_with_its_admin_permissions_after_migrate():
    codenames = set(Group.objects.get(name="Pharmacist").permissions.values_list("codename", flat=True))
    assert {"view_verificationqueueitem", "change_prescription", "view_patient", "view_decision"} <= codenames
    assert not {"delete_prescription", "change_decision", "view_auditlog"} & codenames
