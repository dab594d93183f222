"""Account pages: registration (Django's login and logout views do the rest)."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from ..registration import registration_validate

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


class RegistrationForm(UserCreationForm[User]):
    """Username, e-mail and a password that passes AUTH_PASSWORD_VALIDATORS.

    The username and e-mail rules are the API's (core.registration.registration_validate): NFKC,
    unique ignoring case, letters of one script, one account per e-mail address.
    """

    email = forms.EmailField(label="E-mail address", help_text="For order and prescription updates.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        try:
            username = registration_validate(username=cleaned.get("username") or "", email=cleaned.get("email") or "")
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field, message)
        else:
            if "username" in cleaned:
                cleaned["username"] = username
        return cleaned


def _safe_next(request: "HttpRequest") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("catalog:product-list")


@sensitive_post_parameters("password1", "password2")
def register(request: "HttpRequest") -> "HttpResponse":
    """Create an account and sign it in."""
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_safe_next(request))
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/register.html", {"form": form, "next": _safe_next(request)}, status=status)
