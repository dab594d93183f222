"""Prescription uploads: JPEG, PNG or PDF, recognised by content, stored privately.

The file name and the browser's content type are never trusted. The first bytes decide the
type (JPEG ``FF D8 FF``, PNG ``89 50 4E 47 0D 0A 1A 0A``, PDF ``%PDF-``); images must also
pass Pillow's ``verify()`` and decode as the same format. The stored name is random with the
extension of the detected type, so a PNG sent as ``scan.pdf`` is kept as a PNG and a text
file sent as ``scan.jpg`` is refused. Files over ``RX_UPLOAD_MAX_BYTES`` are refused, and so are
images whose header declares more than ``RX_UPLOAD_MAX_PIXELS`` pixels, before any pixel is decoded:
a small, well-compressed PNG can declare 9400 x 9400 pixels and take about 330 MB to decode.
"""

from __future__ import annotations

import io
import os
import warnings
from typing import TYPE_CHECKING, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

from .. import access
from ..models import Prescription
from .prescriptions import prescription_create

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.core.files import File
    from django.http import HttpRequest

# type -> (magic prefix, extension, Pillow format or None)
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff", "jpg", "JPEG"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "png", "PNG"),
    "application/pdf": (b"%PDF-", "pdf", None),
}


def _fail(message: str) -> NoReturn:
    raise ValidationError({"file": [message]})


def upload_sniff(head: bytes) -> str | None:
    """Return the content type the leading bytes prove, or None."""
    for content_type, (magic, _, _) in SIGNATURES.items():
        if head.startswith(magic):
            return content_type
    return None


def upload_validate(file: File[bytes] | None) -> tuple[str, str, bytes]:
    """Check an uploaded file by content; return (content type, extension, bytes).

    Raises ValidationError on ``file`` (400 naming the field) for an empty, oversized or
    unrecognised file, or an image that does not decode.
    """
    if file is None:
        _fail("Attach the prescription (JPEG, PNG or PDF).")
    limit = settings.RX_UPLOAD_MAX_BYTES
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        _fail(f"The file is {size} bytes; the limit is {limit} bytes.")
    file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        _fail(f"The file is larger than the limit of {limit} bytes.")
    if not data:
        _fail("The file is empty.")
    content_type = upload_sniff(data[:16])
    if content_type is None:
        _fail(
            "Only JPEG, PNG or PDF files are accepted, and this file's content is none of them "
            "(the file name does not decide)."
        )
    _, ext, pil_format = SIGNATURES[content_type]
    if pil_format:
        _check_pixels(data, os.path.basename(getattr(file, "name", None) or "The image")[:100])
        _verify_image(data, pil_format)
    return content_type, ext, data


def _check_pixels(data: bytes, name: str) -> None:
    """Refuse an image whose header declares more than ``RX_UPLOAD_MAX_PIXELS`` pixels.

    ``Image.open`` reads the header only (size and mode); nothing is decoded here.
    """
    limit = settings.RX_UPLOAD_MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except Image.DecompressionBombError:  # over twice Pillow's own limit: certainly over ours
        width = height = 0
        pixels = limit + 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return  # not readable at all: _verify_image says so
    else:
        pixels = width * height
    if pixels > limit:
        size = f"{width} x {height} pixels ({pixels / 1e6:.1f} megapixels)" if width else "too many pixels"
        _fail(
            f"{name} is {size}; the limit is {limit / 1e6:.1f} megapixels. "
            "Scan or photograph the prescription at a lower resolution."
        )


def _verify_image(data: bytes, expected_format: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                found = img.format
                img.verify()
            # verify() does not decode the pixels; load() catches truncated images.
            with Image.open(io.BytesIO(data)) as img:
                img.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        _fail(f"The image could not be read ({exc.__class__.__name__}); upload a clear JPEG, PNG or PDF.")
    if found != expected_format:
        _fail("The image content does not match its signature.")


def prescription_upload(
    *,
    user: User | AnonymousUser,
    patient_id: int | str,
    file: File[bytes] | None,
    notes: str = "",
    request: HttpRequest | None = None,
) -> Prescription:
    """Store an uploaded prescription for one of the user's patients, received for review.

    The patient must be the user's own (or their clinic's); anyone else's is 'not found'.
    """
    patient = access.owned_patient_for(user, patient_id)
    content_type, ext, data = upload_validate(file)
    stored = ContentFile(data, name=f"prescription.{ext}")
    rx = prescription_create(
        user=user,
        patient=patient,
        source=Prescription.Source.UPLOAD,
        request=request,
        file=stored,
        file_content_type=content_type,
        notes=notes,
    )
    return rx
