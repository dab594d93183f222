"""The rx back office, one module per concern."""

from . import prescriptions, pumps  # noqa: F401
