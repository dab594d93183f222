"""Refill-kit API: a clinic's kit orders (its own staff only; everyone else is told it does not
exist) and resolving kit alerts (pharmacy staff), as ``pumps.access`` says. Thin: parse, call
``pumps.services.kits``, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from core.errors import NotFound
from pumps import access
from pumps.api.serializers import (
    KitAlertResolveSerializer,
    KitAlertSerializer,
    KitOrderCancelSerializer,
    KitOrderCreateSerializer,
    KitOrderSerializer,
)
from pumps.models import KitAlert, KitOrder, Pump, RefillAppointment
from pumps.selectors import clinic_kit_orders
from pumps.services import kits as kit_services
from rx.models import Clinic
from shop.services.checkout import SHIPPING_FIELDS


def kit_order_create_from(*, clinic: Clinic, user, data: dict) -> KitOrder:
    """Resolve the ids of a validated create payload within the clinic, then order the kit."""
    pump = Pump.objects.filter(pk=data["pump"], patient__clinic=clinic).select_related("patient").first()
    if pump is None:
        raise serializers.ValidationError({"pump": ["No such pump at this clinic."]})
    appointment = None
    if data.get("appointment"):
        appointment = RefillAppointment.objects.filter(pk=data["appointment"], pump=pump).first()
        if appointment is None:
            raise serializers.ValidationError({"appointment": ["No such appointment for this pump."]})
    product = None
    if data.get("product"):
        product = Product.objects.filter(ndc="".join(c for c in data["product"] if c.isdigit())).first()
        if product is None:
            raise serializers.ValidationError({"product": ["No product with this NDC."]})
    shipping = {f: data.get(f"shipping_{f}", "") for f in SHIPPING_FIELDS}
    return kit_services.kit_order_create(pump=pump, user=user, shipping=shipping, appointment=appointment,
                                         product=product)


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
        kit = kit_order_create_from(clinic=clinic, user=request.user, data=payload.validated_data)
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
        kit_services.kit_order_cancel(kit_order_id=pk, user=request.user, reason=payload.validated_data["reason"])
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
        alert = kit_services.kit_alert_resolve(alert_id=pk, user=request.user,
                                               resolution=payload.validated_data["resolution"])
        return Response(KitAlertSerializer(alert).data)
