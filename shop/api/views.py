"""Shop API views: parse, call a service, render. Errors come from the services as core.errors."""

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from core.errors import DomainError

from .. import selectors
from ..models import CartLine
from ..services import cart as cart_service
from ..services import checkout as checkout_service
from ..services import payments, webhooks
from ..services.orders import order_cancel, order_for_user
from . import serializers as s


def _cart_response(request, *, code=status.HTTP_200_OK):
    cart = cart_service.cart_for_request(request=request, create=False)
    return Response(s.CartSerializer(selectors.cart_priced(cart)).data, status=code)


class CartView(APIView):
    """The shopper's cart (signed-in user's, or the anonymous session's), priced at current tiers."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=s.CartSerializer)
    def get(self, request):
        return _cart_response(request)


class CartItemsView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=s.CartItemCreateSerializer, responses={201: s.CartSerializer})
    def post(self, request):
        data = s.CartItemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = Product.objects.active().filter(ndc=data.validated_data["product"]).first()
        if product is None:
            raise DomainError(f"product: no product with NDC {data.validated_data['product']}.")
        cart = cart_service.cart_for_request(request=request, create=True)
        cart_service.cart_add(cart=cart, product=product, quantity=data.validated_data["quantity"])
        return _cart_response(request, code=status.HTTP_201_CREATED)


class CartItemView(APIView):
    permission_classes = [permissions.AllowAny]

    def _line(self, request, pk) -> CartLine:
        cart = cart_service.cart_for_request(request=request, create=False)
        return get_object_or_404(CartLine.objects.select_related("product"), pk=pk, cart_id=getattr(cart, "pk", None))

    @extend_schema(request=s.CartItemUpdateSerializer, responses=s.CartSerializer)
    def patch(self, request, pk):
        line = self._line(request, pk)
        data = s.CartItemUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cart_service.cart_line_update(line=line, quantity=data.validated_data["quantity"])
        return _cart_response(request)

    @extend_schema(responses=s.CartSerializer)
    def delete(self, request, pk):
        cart_service.cart_line_remove(line=self._line(request, pk))
        return _cart_response(request)


class CheckoutView(APIView):
    """Create an order from the cart, reserve its stock, and answer what the client needs to pay."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=s.CheckoutSerializer, responses={201: inline_serializer(
        "CheckoutResult", {"order": s.OrderSerializer(), "payment": s.PaymentInfoSerializer()})})
    def post(self, request):
        data = s.CheckoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = checkout_service.checkout_create(
            user=request.user, shipping=data.shipping(), email=data.validated_data.get("email", "")
        )
        order = selectors.order_detail_for_user(request.user).get(pk=result.order.pk)
        body = s.OrderSerializer(order).data
        body["payment"] = s.PaymentInfoSerializer(asdict(result.payment)).data
        return Response(body, status=status.HTTP_201_CREATED)


class OrderListView(ListAPIView):
    """The signed-in user's own orders, newest first."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.OrderSummarySerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.orders_for_user(self.request.user)


class OrderDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.OrderSerializer)
    def get(self, request, number):
        order = get_object_or_404(selectors.order_detail_for_user(request.user), number=number)
        return Response(s.OrderSerializer(order).data)


class OrderPayView(APIView):
    """Charge the order with a Stripe payment method id (created and confirmed server-side)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=s.PaySerializer, responses={
        200: s.PayResultSerializer, 402: OpenApiResponse(description="The card was declined; the order stays payable."),
        409: OpenApiResponse(description="The order cannot be paid in its current status."),
        503: OpenApiResponse(description="Stripe could not be reached."),
    })
    def post(self, request, number):
        data = s.PaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = payments.order_pay(user=request.user, number=number,
                                    payment_method=data.validated_data["payment_method"])
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


class OrderCancelView(APIView):
    """Cancel the order: stock released; a paid order is refunded in full through Stripe."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=s.CancelSerializer, responses=s.OrderSerializer)
    def post(self, request, number):
        data = s.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = order_for_user(user=request.user, number=number)
        order_cancel(order=order, actor=request.user,
                     reason=data.validated_data["reason"] or "Cancelled by the customer.")
        order = selectors.order_detail_for_user(request.user).get(pk=order.pk)
        return Response(s.OrderSerializer(order).data)


class StripeWebhookView(APIView):
    """Stripe's webhook: verified by the Stripe-Signature header, each event applied once."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=None, responses={200: inline_serializer("WebhookAck", {
        "received": serializers.BooleanField(), "duplicate": serializers.BooleanField(),
        "processed": serializers.BooleanField()}), 400: OpenApiResponse(description="Bad signature.")})
    def post(self, request):
        outcome = webhooks.stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
        return Response({"received": True, "event": outcome.event_id, "duplicate": outcome.duplicate,
                         "processed": outcome.processed})

