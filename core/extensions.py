"""Extension points: a lower app names a setting that lists dotted paths, a higher app fills it in.

The way Django's ``AUTHENTICATION_BACKENDS`` works: catalog and rx never import shop, yet ask it
"did this user receive the product?" through ``CATALOG_PURCHASE_CHECKERS``. The paths are read from
settings on each call (tests override them) and imported once.
"""

from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.utils.module_loading import import_string


@lru_cache(maxsize=64)
def _load(path: str) -> Callable[..., Any]:
    return cast("Callable[..., Any]", import_string(path))


def hooks(setting: str) -> list[Callable[..., Any]]:
    """Return the callables the setting ``setting`` names, in order (an unset setting is none)."""
    return [_load(path) for path in getattr(settings, setting, ())]
