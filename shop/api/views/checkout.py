"""Checkout API: the cart becomes an order (stock reserved), answered with what the client needs to pay."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors
from ...services import checkout as checkout_service
from .. import serializers as s


class CheckoutView(APIView):
    """Create an order from the cart, reserve its stock, and answer what the client needs to pay."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=s.CheckoutSerializer,
        responses={
            201: inline_serializer(
                "CheckoutResult", {"order": s.OrderSerializer(), "payment": s.PaymentInfoSerializer()}
            )
        },
    )
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
