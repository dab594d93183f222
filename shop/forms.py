"""Storefront forms of the shop app (parsing only; the rules live in shop.services)."""

from django import forms

from .services.cart import MAX_QUANTITY


class AddToCartForm(forms.Form):
    product = forms.RegexField(regex=r"^\d{11}$", error_messages={"invalid": "Choose a product (11-digit NDC)."})
    quantity = forms.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages={
            "invalid": "Enter a whole number.",
            "required": "Enter a quantity.",
            "min_value": "Enter at least 1.",
            "max_value": f"Enter at most {MAX_QUANTITY}.",
        },
    )


class CartLineForm(forms.Form):
    quantity = forms.IntegerField(
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages={
            "invalid": "Enter a whole number.",
            "required": "Enter a quantity.",
            "min_value": "Enter at least 1 (or remove the line).",
            "max_value": f"Enter at most {MAX_QUANTITY}.",
        },
    )


class ShippingForm(forms.Form):
    """The shipping address of the checkout page; field names match ``checkout_create``'s ``shipping`` keys."""

    name = forms.CharField(label="Full name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    line1 = forms.CharField(
        label="Address line 1", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    line2 = forms.CharField(
        label="Address line 2 (optional)",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label="City", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    state = forms.CharField(
        label="State", max_length=50, widget=forms.TextInput(attrs={"autocomplete": "address-level1"})
    )
    postal_code = forms.RegexField(
        label="ZIP code",
        regex=r"^\d{5}(-\d{4})?$",
        max_length=20,
        error_messages={"invalid": "Enter a ZIP code such as 62701 or 62701-1234."},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    country = forms.ChoiceField(label="Country", choices=[("US", "United States")], initial="US")
    phone = forms.CharField(
        label="Phone (optional)",
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    email = forms.EmailField(
        label="E-mail for order updates", required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def shipping(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "email"}


class CancelOrderForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False)


class PrescriptionUploadForm(forms.Form):
    patient = forms.IntegerField(min_value=1)
    file = forms.FileField()
    lines = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=())

    def __init__(self, *args, line_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(i, i) for i in line_ids]
