"""Abstract model bases every app may use: records kept forever, and a shipping address.

No concrete model lives here (core has no tables and no migrations).
"""

from typing import Any, NoReturn, TypeVar

from django.db import models

__all__ = ["ImmutableRecordError", "ImmutableQuerySet", "ImmutableModel", "ShippingAddress"]


class ImmutableRecordError(Exception):
    """A record that is kept forever (a decision, an audit row) was asked to change."""


_M = TypeVar("_M", bound=models.Model)


class ImmutableQuerySet(models.QuerySet[_M]):
    """Refuses bulk updates and deletes: rows of these models are kept forever."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise ImmutableRecordError(f"{self.model.__name__} rows cannot be changed.")

    def delete(self) -> NoReturn:
        raise ImmutableRecordError(f"{self.model.__name__} rows cannot be deleted.")


class ImmutableModel(models.Model):
    """A row written once and never changed or deleted.

    ``save`` only inserts, ``delete`` raises, and the manager's querysets refuse ``update`` and
    ``delete``. Subclasses word the refusals for their records in ``change_refused`` and
    ``delete_refused``.
    """

    change_refused = "This record is kept as written and cannot be changed."
    delete_refused = "This record is kept forever and cannot be deleted."

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError(self.change_refused)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ImmutableRecordError(self.delete_refused)


class ShippingAddress(models.Model):
    """Where a parcel goes: the ``shipping_*`` fields of an order (US addresses by default)."""

    shipping_name = models.CharField("recipient", max_length=200)
    shipping_line1 = models.CharField("address line 1", max_length=200)
    shipping_line2 = models.CharField("address line 2", max_length=200, blank=True)
    shipping_city = models.CharField("city", max_length=100)
    shipping_state = models.CharField("state", max_length=50)
    shipping_postal_code = models.CharField("postal code", max_length=20)
    shipping_country = models.CharField("country", max_length=2, default="US")
    shipping_phone = models.CharField("phone", max_length=30, blank=True)

    class Meta:
        abstract = True
