"""Write the PHI audit log. Every view or change of a patient, a prescription or an uploaded
file goes through ``audit_record`` (or ``audit_record_many`` for lists). The services record the
changes they make; pages, the API and the admin record what they show with ``audit_view`` (or
``audit_view_many``).

The client address is ``REMOTE_ADDR``: behind a proxy, the proxy must set it (for example
gunicorn's ``--forwarded-allow-ips`` with a trusted proxy), because a client can forge
``X-Forwarded-For`` and an audit trail must not record what a client claims.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from django.db import models

from ..models import AuditLog

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

Action = AuditLog.Action


def object_type_of(obj: models.Model) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def _request_fields(request: HttpRequest | None) -> dict[str, str | None]:
    if request is None:
        return {"ip_address": None, "path": ""}
    ip = request.META.get("REMOTE_ADDR") or None
    return {"ip_address": ip, "path": request.get_full_path()[:500]}


def _user_fields(user: User | AnonymousUser | None) -> dict[str, User | AnonymousUser | str | None]:
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user": None, "username": ""}
    return {"user": user, "username": user.get_username()}


def audit_record(
    *,
    user: User | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: object = None,
    request: HttpRequest | None = None,
    detail: str = "",
) -> AuditLog:
    """Append one audit row: ``user`` did ``action`` to ``obj`` (or ``object_type``/``object_id``)."""
    # Callers give ``obj``, or both ``object_type`` and ``object_id``: ``obj`` is read only when it was given.
    return AuditLog.objects.create(
        action=action,
        object_type=object_type or object_type_of(cast(models.Model, obj)),
        object_id=str(object_id if object_id is not None else cast(models.Model, obj).pk),
        detail=detail[:500],
        **_user_fields(user),
        **_request_fields(request),
    )


def audit_record_many(
    *,
    user: User | AnonymousUser | None,
    action: str,
    objects: Iterable[models.Model],
    request: HttpRequest | None = None,
    detail: str = "",
) -> list[AuditLog]:
    """Append one audit row per object in a single INSERT (lists, admin changelists)."""
    base = {**_user_fields(user), **_request_fields(request)}
    rows = [
        AuditLog(action=action, object_type=object_type_of(o), object_id=str(o.pk), detail=detail[:500], **base)
        for o in objects
    ]
    return AuditLog.objects.bulk_create(rows) if rows else []


def audit_view(
    request: HttpRequest,
    obj: models.Model | None = None,
    *,
    object_type: str = "",
    object_id: object = None,
    detail: str = "",
) -> AuditLog:
    """Record that ``obj`` (or ``object_type``/``object_id``) was shown to ``request.user``."""
    return audit_record(
        user=request.user,
        action=Action.VIEW,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        request=request,
        detail=detail,
    )


def audit_view_many(request: HttpRequest, objects: Iterable[models.Model], *, detail: str = "") -> list[AuditLog]:
    """Record, one row each in a single INSERT, that ``objects`` (a page, a changelist) were shown to
    ``request.user``."""
    return audit_record_many(user=request.user, action=Action.VIEW, objects=objects, request=request, detail=detail)
