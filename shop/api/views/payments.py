"""Payments API: pay an order with a Stripe payment method, read its payment's status, get a fresh
SetupIntent for the card form, and Stripe's webhook."""

from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ...services import payments, webhooks
from .. import serializers as s


class OrderPayView(APIView):
    """Charge the order with a Stripe payment method id (created and confirmed server-side)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=s.PaySerializer,
        responses={
            200: s.PayResultSerializer,
            402: OpenApiResponse(description="The card was declined; the order stays payable."),
            409: OpenApiResponse(description="The order cannot be paid in its current status."),
            503: OpenApiResponse(description="Stripe could not be reached."),
        },
    )
    def post(self, request, number):
        data = s.PaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = payments.order_pay(
            user=request.user, number=number, payment_method=data.validated_data["payment_method"]
        )
        return Response(s.PayResultSerializer(asdict(result)).data)


class OrderPaymentStatusView(APIView):
    """The latest payment's status, re-read from Stripe while open (after 3-D Secure). Charges nothing."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.PayResultSerializer)
    def get(self, request, number):
        result = payments.order_payment_status(user=request.user, number=number)
        return Response(s.PayResultSerializer(asdict(result)).data)


class OrderSetupIntentView(APIView):
    """A fresh SetupIntent for the browser's card form (Stripe.js), for a payable order."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses=s.PaymentInfoSerializer)
    def post(self, request, number):
        info = payments.order_setup_intent(user=request.user, number=number)
        return Response(s.PaymentInfoSerializer(asdict(info)).data)


class StripeWebhookView(APIView):
    """Stripe's webhook: verified by the Stripe-Signature header, each event applied once."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=None,
        responses={
            200: inline_serializer(
                "WebhookAck",
                {
                    "received": serializers.BooleanField(),
                    "duplicate": serializers.BooleanField(),
                    "processed": serializers.BooleanField(),
                },
            ),
            400: OpenApiResponse(description="Bad signature, or a malformed event (the message names the field)."),
        },
    )
    def post(self, request):
        outcome = webhooks.stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
        return Response(
            {
                "received": True,
                "event": outcome.event_id,
                "duplicate": outcome.duplicate,
                "processed": outcome.processed,
            }
        )
