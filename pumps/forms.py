"""Forms of the clinic refill-kit page (``pumps.views.kits``): every posted value is validated here, so a
bad value is a form error naming the field (never a database error).

The delivery address fields take their lengths and required-ness from ``core.models.ShippingAddress``
(the columns they are stored in); the country is a two-letter code, US when left out.
"""

from typing import Any

from django import forms
from django.db import models
from django.db.models import QuerySet

from core.models import ShippingAddress
from pumps.models import KitOrder, Pump
from shop.services.checkout import SHIPPING_FIELDS

CANCEL_REASON_MAX_LENGTH = 2000


def shipping_form_fields() -> dict[str, forms.Field]:
    """Form fields ``shipping_<name>`` for ``SHIPPING_FIELDS``, from the model fields that store them."""
    fields: dict[str, forms.Field] = {}
    for name in SHIPPING_FIELDS:
        model_field = ShippingAddress._meta.get_field(f"shipping_{name}")
        assert isinstance(model_field, models.Field)
        form_field = model_field.formfield()
        assert form_field is not None
        fields[f"shipping_{name}"] = form_field
    fields["shipping_country"] = forms.RegexField(
        label="country",
        regex=r"^\s*[A-Za-z]{2}\s*$",
        required=False,
        error_messages={"invalid": "Enter a two-letter country code such as US."},
    )
    return fields


class KitOrderForm(forms.Form):
    """Order a kit (``action=order``) or set a standing order (``action=standing``) for one of the clinic's pumps."""

    pump = forms.ModelChoiceField(
        queryset=Pump.objects.none(),
        error_messages={
            "required": "Choose one of this clinic's pumps.",
            "invalid_choice": "Choose one of this clinic's pumps.",
        },
    )
    active = forms.BooleanField(required=False)

    def __init__(self, *args: Any, pumps: QuerySet[Pump], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pump"].queryset = pumps  # type: ignore[attr-defined]
        self.fields.update(shipping_form_fields())

    def shipping(self) -> dict[str, str]:
        """The kit services' ``shipping`` mapping (keys ``SHIPPING_FIELDS``); the country upper case, US by default."""
        values = {name: str(self.cleaned_data.get(f"shipping_{name}") or "").strip() for name in SHIPPING_FIELDS}
        values["country"] = (values["country"] or "US").upper()
        return values


class KitCancelForm(forms.Form):
    """Cancel one of the clinic's kit orders (``action=cancel``) with a reason."""

    kit_order = forms.ModelChoiceField(
        queryset=KitOrder.objects.none(),
        error_messages={
            "required": "Choose one of this clinic's kit orders.",
            "invalid_choice": "Choose one of this clinic's kit orders.",
        },
    )
    reason = forms.CharField(
        max_length=CANCEL_REASON_MAX_LENGTH, error_messages={"required": "Say why the kit is cancelled."}
    )

    def __init__(self, *args: Any, kit_orders: QuerySet[KitOrder], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kit_order"].queryset = kit_orders  # type: ignore[attr-defined]
