"""Prescription pages: the protected download of an uploaded prescription file."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET

from core.errors import NotFound

from .. import access
from ..services import audit


@require_GET
@login_required
@xframe_options_sameorigin  # the admin review page embeds PDFs
def prescription_file(request, pk):
    """Serve an uploaded prescription from private storage to those who may see it (else 404),
    writing a download row to the audit log."""
    try:
        rx = access.prescription_for(request.user, pk)
    except NotFound:
        raise Http404("Not found.") from None
    if not rx.file:
        raise Http404("Not found.")
    try:
        handle = rx.file.open("rb")
    except FileNotFoundError:
        raise Http404("Not found.") from None
    audit.audit_record(user=request.user, action=audit.Action.DOWNLOAD, obj=rx, request=request, detail="file")
    ext = rx.file.name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle,
        content_type=rx.file_content_type or "application/octet-stream",
        as_attachment=False,
        filename=f"RX-{rx.pk}.{ext}",
    )
    response["Cache-Control"] = "private, no-store"
    if (rx.file_content_type or "").startswith("image/"):
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response
