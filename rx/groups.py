"""The "Pharmacist" group and its admin permissions, created after every migrate (and flush).

Data a migration would create must not exist only in a migration (the tests run without
migrations), so a ``post_migrate`` handler creates it; it is idempotent.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from .access import PHARMACIST_GROUP

PHARMACIST_PERMISSIONS = [
    "view_prescription",
    "change_prescription",
    "view_verificationqueueitem",
    "change_verificationqueueitem",
    "view_patient",
    "view_prescriber",
    "add_prescriber",
    "change_prescriber",
    "view_finding",
    "view_decision",
    "view_dispense",
    "view_prescriptionevent",
]


def pharmacist_group_grant(app_label: str, codenames: list[str], *, using: str = "default", apps=None) -> None:
    """Give the Pharmacist group ``app_label``'s permissions ``codenames`` (created first if missing).

    Higher apps whose back office pharmacists use (pumps) call this from their own post_migrate."""
    apps = apps or global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    create_permissions(global_apps.get_app_config(app_label), verbosity=0, using=using, apps=apps)
    group, _ = Group.objects.using(using).get_or_create(name=PHARMACIST_GROUP)
    perms = Permission.objects.using(using).filter(content_type__app_label=app_label, codename__in=codenames)
    group.permissions.add(*perms)


def ensure_pharmacist_group(sender=None, *, app_config=None, using="default", apps=None, **kwargs):
    """Create the Pharmacist group with its rx permissions (post_migrate receiver)."""
    pharmacist_group_grant("rx", PHARMACIST_PERMISSIONS, using=using, apps=apps)
