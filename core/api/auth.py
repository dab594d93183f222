"""Account API: register and obtain a token (mounted at /api/v1/auth/).

Both endpoints are throttled with the ``auth`` scope (``AUTH_THROTTLE_RATE``) per client
address, and ignore any session, so a signed-in browser needs no CSRF token to call them. Failed
token requests count towards the sign-in lockout (django-axes, see core.lockout); a locked-out
username or address gets a 429 with the reason, even with the right password.
"""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from ..lockout import signin_locked
from ..registration import DUPLICATE_USERNAME, registration_validate
from .errors import ErrorSerializer

if TYPE_CHECKING:
    from django.contrib.auth.models import User as AuthUser
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.request import Request

User = get_user_model()


class AuthRateThrottle(ScopedRateThrottle):
    """The ``auth`` scope's rate limit (a class of its own so tests can tighten it)."""


class RegisterSerializer(serializers.ModelSerializer["AuthUser"]):
    email = serializers.EmailField()
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=128, style={"input_type": "password"}
    )

    class Meta:
        model = User
        fields = ["id", "username", "email", "password"]
        read_only_fields = ["id"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The page's rules (core.registration): NFKC, unique ignoring case, one script, one account per e-mail.
        try:
            attrs["username"] = registration_validate(username=attrs["username"], email=attrs["email"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs

    def create(self, validated_data: dict[str, Any]) -> "AuthUser":
        try:
            with transaction.atomic():
                return User.objects.create_user(**validated_data)
        except IntegrityError as exc:  # two registrations racing for one name
            raise serializers.ValidationError({"username": [DUPLICATE_USERNAME]}) from exc


class AuthView(APIView):
    authentication_classes: list[type["BaseAuthentication"]] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AuthRateThrottle]
    throttle_scope = "auth"


class RegisterView(AuthView):
    @extend_schema(
        summary="Create a customer account",
        description="Django's password validators apply. 400 names the failing field (username, email, "
        "password); 429 when throttled.",
        request=RegisterSerializer,
        responses={201: RegisterSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
        auth=[],
    )
    def post(self, request: "Request") -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data, status=status.HTTP_201_CREATED)


class TokenView(AuthView):
    @extend_schema(
        summary="Obtain an API token",
        description="Send the token back as `Authorization: Token <token>`. Bad credentials: 400. After "
        "AXES_FAILURE_LIMIT failed sign-ins for the username or from the address (here, on the sign-in page "
        "or the admin), 429 until the cool-off has passed, even with the right password.",
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: ErrorSerializer,
            429: ErrorSerializer,
        },
        auth=[],
    )
    def post(self, request: "Request") -> Response:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if signin_locked(request=request, username=username):
            raise exceptions.Throttled(detail=settings.AXES_COOLOFF_MESSAGE)
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


app_name = "auth-api"
urlpatterns = [
    path("register/", RegisterView.as_view(), name="register"),
    path("token/", TokenView.as_view(), name="token"),
]
