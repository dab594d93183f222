"""The rx back office, one module per concern."""

from . import prescriptions  # noqa: F401
