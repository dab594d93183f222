"""Storefront forms of the catalog app."""

from django import forms

RATING_CHOICES = [(n, f"{n} star{'s' if n > 1 else ''}") for n in range(1, 6)]
RATING_ERROR = "Choose a rating from 1 to 5 stars."


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="Your rating",
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": RATING_ERROR, "invalid_choice": RATING_ERROR},
    )
    title = forms.CharField(label="Summary of your review", max_length=200)
    body = forms.CharField(label="Review", max_length=5000, widget=forms.Textarea(attrs={"rows": 5}))
