"""Orders API: the signed-in user's own orders (list, detail) and cancelling one."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors
from ...access import order_for_user
from ...services.orders import order_cancel
from .. import serializers as s


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


class OrderCancelView(APIView):
    """Cancel the order: stock released; a paid order is refunded in full through Stripe."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=s.CancelSerializer, responses=s.OrderSerializer)
    def post(self, request, number):
        data = s.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = order_for_user(user=request.user, number=number)
        order_cancel(
            order=order, actor=request.user, reason=data.validated_data["reason"] or "Cancelled by the customer."
        )
        order = selectors.order_detail_for_user(request.user).get(pk=order.pk)
        return Response(s.OrderSerializer(order).data)
