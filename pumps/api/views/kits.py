"""Refill-kit API: a clinic's kit orders (its own staff only; everyone else is told it does not
exist) and resolving kit alerts (pharmacy staff), as ``pumps.access`` says. Thin: parse, call
``pumps.services.kits``, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from pumps import access
from pumps.api.serializers import (
    KitAlertResolveSerializer,
    KitAlertSerializer,
    KitOrderCancelSerializer,
    KitOrderCreateSerializer,
    KitOrderSerializer,
)
from pumps.models import KitAlert, KitOrder
from pumps.selectors import clinic_kit_orders
from pumps.services.kits.alerts import kit_alert_resolve
from pumps.services.kits.cancel import kit_order_cancel
from pumps.services.kits.orders import clinic_kit_order_create
from shop.services.checkout import SHIPPING_FIELDS


class ClinicKitOrderListView(APIView):
    """GET the clinic's kit orders; POST orders a kit for one of its patients' pumps (invoiced to the clinic)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=KitOrderSerializer(many=True))
    def get(self, request, clinic_id):
        clinic = access.clinic_for_staff(request.user, clinic_id)
        return Response(KitOrderSerializer(clinic_kit_orders(clinic), many=True).data)

    @extend_schema(request=KitOrderCreateSerializer, responses={201: KitOrderSerializer})
    def post(self, request, clinic_id):
        clinic = access.clinic_for_staff(request.user, clinic_id)
        payload = KitOrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        kit = clinic_kit_order_create(
            clinic=clinic,
            user=request.user,
            pump_id=data["pump"],
            appointment_id=data.get("appointment"),
            product_ndc=data.get("product") or "",
            shipping={f: data.get(f"shipping_{f}", "") for f in SHIPPING_FIELDS},
        )
        kit = clinic_kit_orders(clinic).get(pk=kit.pk)
        return Response(KitOrderSerializer(kit).data, status=status.HTTP_201_CREATED)


class ClinicKitOrderCancelView(APIView):
    """POST cancels a kit not yet dispatched (its invoice voided, stock released); 409 with ``status`` otherwise."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=KitOrderCancelSerializer, responses=KitOrderSerializer)
    def post(self, request, clinic_id, pk):
        clinic = access.clinic_for_staff(request.user, clinic_id)
        if not KitOrder.objects.filter(pk=pk, clinic=clinic).exists():
            raise NotFound("Kit order not found.")
        payload = KitOrderCancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        kit_order_cancel(kit_order_id=pk, user=request.user, reason=payload.validated_data["reason"])
        return Response(KitOrderSerializer(clinic_kit_orders(clinic).get(pk=pk)).data)


class KitAlertListView(generics.ListAPIView):
    """Pharmacy staff: the open kit alerts, highest level first, paginated (``?page=``) like every list."""

    permission_classes = [IsAuthenticated]
    serializer_class = KitAlertSerializer
    filter_backends: list = []  # no filters and no ordering parameter: ``?ordering=`` is ignored

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return KitAlert.objects.none()
        if not access.is_pharmacy_staff(self.request.user):
            raise NotFound("Not found.")
        return KitAlert.objects.filter(resolved_at__isnull=True).order_by("-level", "opened_at", "pk")


class KitAlertResolveView(APIView):
    """Pharmacy staff: resolve an alert (it stops escalating), saying what was done."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=KitAlertResolveSerializer, responses=KitAlertSerializer)
    def post(self, request, pk):
        if not access.is_pharmacy_staff(request.user):
            raise NotFound("Alert not found.")
        payload = KitAlertResolveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        alert = kit_alert_resolve(alert_id=pk, user=request.user, resolution=payload.validated_data["resolution"])
        return Response(KitAlertSerializer(alert).data)
