"""factory_boy factories of core: user accounts.

- ``UserFactory(username=..., password="...")``: the password is hashed; the raw one is
  ``DEFAULT_PASSWORD`` unless given. ``UserFactory(is_staff=True)`` for staff.
"""

import factory
from django.contrib.auth import get_user_model

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    """A customer account. ``password`` is the raw password (default DEFAULT_PASSWORD)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(DEFAULT_PASSWORD)
