"""National Drug Code parsing. Pure functions: no ORM, no Django.

Printed 10-digit NDCs come as 4-4-2, 5-3-2 or 5-4-1; HIPAA billing uses 11 digits as 5-4-2,
made by left-padding the short segment with a zero. An unhyphenated 10-digit NDC is
ambiguous, so 10-digit input is accepted only hyphenated. We store the 11-digit form.
"""

import re

# [0-9], not \d: \d also matches other scripts' digits, which the database refuses.
_HYPHENATED = re.compile(r"^([0-9]{4,5})-([0-9]{3,4})-([0-9]{1,2})$")
_TARGET = (5, 4, 2)
_ALLOWED_10 = {(4, 4, 2), (5, 3, 2), (5, 4, 1)}


class InvalidNDC(ValueError):
    """The text is not an NDC in one of the accepted forms."""


def normalize_ndc(value: str) -> str:
    """Return the 11-digit NDC (digits only) for any accepted form, or raise InvalidNDC."""
    if not isinstance(value, str):
        raise InvalidNDC("NDC must be text.")
    text = value.strip()
    if re.fullmatch(r"[0-9]{11}", text):
        return text
    if re.fullmatch(r"[0-9]{10}", text):
        raise InvalidNDC("A 10-digit NDC without hyphens is ambiguous; write it as 4-4-2, 5-3-2 or 5-4-1.")
    match = _HYPHENATED.fullmatch(text)
    if not match:
        raise InvalidNDC("NDC must be 11 digits, 5-4-2 with hyphens, or a hyphenated 10-digit 4-4-2, 5-3-2 or 5-4-1.")
    parts = match.groups()
    shape = tuple(len(p) for p in parts)
    if shape == _TARGET:
        return "".join(parts)
    if shape not in _ALLOWED_10:
        raise InvalidNDC(f"NDC segments {'-'.join(map(str, shape))} are not a valid NDC layout.")
    return "".join(p.zfill(n) for p, n in zip(parts, _TARGET, strict=True))


def format_ndc(ndc11: str) -> str:
    """Show an 11-digit NDC as 5-4-2 with hyphens."""
    if not re.fullmatch(r"[0-9]{11}", ndc11 or ""):
        raise InvalidNDC("Expected an 11-digit NDC.")
    return f"{ndc11[:5]}-{ndc11[5:9]}-{ndc11[9:]}"


def is_valid_ndc(value: str) -> bool:
    try:
        normalize_ndc(value)
    except InvalidNDC:
        return False
    return True
