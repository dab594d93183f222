"""The one guard on request input that no model field can hold: NUL characters.

PostgreSQL text cannot store ``\\x00`` (psycopg raises ``ValueError`` before the query runs, a 500),
and no field of this project has a use for it. ``nul_path`` finds the first one in parsed data
(dict keys and values, lists, strings) and names where it is, so every entry point refuses it with a
400 naming the field: ``core.api.parsers.JSONParser`` for JSON bodies (FHIR included),
``core.middleware.RequestInputGuardMiddleware`` for the path, the query string and form
fields, and ``rx.services.fhir`` for resources handed to it directly.
"""

from collections.abc import Iterable, Mapping

NUL = "\x00"
NUL_MESSAGE = "NUL characters (\\x00) are not allowed."


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def nul_path(data: object, prefix: str = "") -> str | None:
    """The path (``a.b[0].c``) of the first key or string in ``data`` holding a NUL, or None.

    A key holding a NUL is named by its path (the key itself, NUL and all, would not print well:
    it is shown with the NUL as ``\\x00``). A string at the top level is named ``prefix`` (or
    ``"body"`` when ``prefix`` is empty).
    """
    if isinstance(data, str):
        return (prefix or "body") if NUL in data else None
    if isinstance(data, Mapping):
        for key, value in data.items():
            name = _join(prefix, str(key).replace(NUL, "\\x00"))
            if NUL in str(key):
                return name
            found = nul_path(value, name)
            if found is not None:
                return found
        return None
    if isinstance(data, (list, tuple)):
        for index, item in enumerate(data):
            found = nul_path(item, f"{prefix}[{index}]")
            if found is not None:
                return found
    return None


def nul_field(pairs: Iterable[tuple[str, Iterable[str]]]) -> str | None:
    """The first name of ``(name, values)`` pairs (a QueryDict's ``lists()``) whose name or a value holds a NUL."""
    for name, values in pairs:
        if NUL in name or any(NUL in value for value in values if isinstance(value, str)):
            return name.replace(NUL, "\\x00")
    return None
