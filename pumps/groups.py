"""What the Pharmacist group may open in the pumps back office, granted after every migrate.

Pharmacists handle the refill-kit alerts and read the pumps and kits of the patients they may see
(``pumps.access`` scopes the rows); the admin also asks for the model permission, so the group holds
these. Idempotent, like ``rx.groups``.
"""

from typing import Any

from rx.groups import pharmacist_group_grant

PHARMACIST_PUMP_PERMISSIONS = [
    "view_pump",
    "view_pumpprogram",
    "view_pumprefill",
    "view_refillappointment",
    "view_kitorder",
    "view_standingorder",
    "view_kitalert",
    "change_kitalert",  # the "resolve" action
    "view_kitalertescalation",
]


def ensure_pharmacist_pump_permissions(
    sender: Any = None, *, using: str = "default", apps: Any = None, **kwargs: Any
) -> None:
    """Give the Pharmacist group its pumps permissions (post_migrate receiver)."""
    pharmacist_group_grant("pumps", PHARMACIST_PUMP_PERMISSIONS, using=using, apps=apps)
