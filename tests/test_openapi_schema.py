"""The OpenAPI schema of the whole project generates, validates and raises no warning."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/products/{ndc}/quote/", "/api/v1/auth/register/", "/api/v1/auth/token/"):
        assert path in text
