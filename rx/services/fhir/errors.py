"""FHIR errors: ``FhirInvalid`` (400) names the failing element, ``FhirAmbiguous`` (409) an element that
matches more than one record, ``FhirNotPermitted`` (403)."""

import re
from collections.abc import Iterable

from django.db import models
from pydantic import ValidationError as PydanticValidationError

from core.errors import DomainError


class FhirInvalid(DomainError):
    """The resource is invalid or cannot be mapped; ``element`` names where."""

    code = "invalid_fhir_resource"

    def __init__(self, element: str, message: str):
        super().__init__(f"{element}: {message}", data={"element": element, "errors": {element: [message]}})
        self.element = element


class FhirAmbiguous(FhirInvalid):
    """The element matches more than one record (two patients with the same name and birth date)."""

    status_code = 409
    code = "ambiguous_fhir_reference"


class FhirNotPermitted(DomainError):
    status_code = 403
    code = "permission_denied"


def element_path(loc: Iterable[int | str]) -> str:
    """Turn a pydantic error location into a FHIR element path: ('a', 0, 'b') -> 'a[0].b'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ("." if path else "") + "resourceType"
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += ("." if path else "") + part
    return path


def pydantic_to_fhir_invalid(exc: PydanticValidationError) -> FhirInvalid:
    error = exc.errors()[0]
    element = element_path(error.get("loc") or ())
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if not element:
        named = re.findall(r"'([A-Za-z]+)'", message)
        element = (
            re.sub(r"(CodeableConcept|Reference|Boolean|Quantity)$", "", named[0]) + "[x]"
            if len(named) > 1
            else named[0]
            if named
            else "MedicationRequest"
        )
    return FhirInvalid(element, " ".join(message.split()))


def fit(value: str, limit: int, element: str) -> str:
    """Refuse text longer than the column that stores it (400 naming the element, not a DataError)."""
    if len(value) > limit:
        raise FhirInvalid(element, f"At most {limit} characters (got {len(value)}).")
    return value


def fit_field(model: type[models.Model], field: str, value: str, element: str) -> str:
    """``fit`` with the limit of the model field that stores the value (its ``max_length``)."""
    limit = getattr(model._meta.get_field(field), "max_length", None)
    return fit(value, limit, element) if isinstance(limit, int) else value
