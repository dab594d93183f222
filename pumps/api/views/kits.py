"""Refill-kit API: a clinic's kit orders (its own staff only; everyone else is told it does not
exist) and resolving kit alerts (pharmacy staff). Thin: parse, call ``pumps.services.kits``, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from core.errors import NotFound
from pumps.models import KitAlert, KitOrder, Pump, RefillAppointment
from pumps.services import kits as kit_services
from rx import access
from rx.models import Clinic
from shop.services.checkout import SHIPPING_FIELDS


def clinic_for_staff(user, clinic_id) -> Clinic:
    """The clinic if ``user`` is one of its staff; anyone else (pharmacist and admin too) gets 404."""
    try:
        pk = int(clinic_id)
    except (TypeError, ValueError):
        raise NotFound("Clinic not found.") from None
    if pk not in access.clinic_ids_of(user):
        raise NotFound("Clinic not found.")
    return Clinic.objects.get(pk=pk)


def can_handle_alerts(user) -> bool:
    return access.is_pharmacist(user) or access.is_rx_admin(user)


class KitOrderSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", default=None, read_only=True)
    order_status = serializers.CharField(source="order.status", default=None, read_only=True)
    product = serializers.CharField(source="product.ndc", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    open_alerts = serializers.SerializerMethodField()

    class Meta:
        model = KitOrder
        fields = ["id", "pump", "patient", "refill", "appointment", "product", "product_name", "quantity", "source",
                  "status", "ship_by", "expected_delivery", "required_delivery", "dispatched_at", "order_number",
                  "order_status", "last_error", "open_alerts", "created_at"]
        read_only_fields = fields

    def get_open_alerts(self, kit) -> list[str]:
        return [a.reason for a in kit.alerts.all() if a.resolved_at is None]


class KitOrderCreateSerializer(serializers.Serializer):
    pump = serializers.IntegerField()
    appointment = serializers.IntegerField(required=False, allow_null=True)
    product = serializers.CharField(required=False, allow_blank=True, help_text="Kit NDC (default: by concentration).")
    shipping_name = serializers.CharField(max_length=200)
    shipping_line1 = serializers.CharField(max_length=200)
    shipping_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    shipping_city = serializers.CharField(max_length=100)
    shipping_state = serializers.CharField(max_length=50)
    shipping_postal_code = serializers.CharField(max_length=20)
    shipping_country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    shipping_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


def kit_orders_of(clinic: Clinic):
    return (KitOrder.objects.filter(clinic=clinic).select_related("order", "product")
            .prefetch_related("alerts").order_by("-created_at", "-pk"))


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
        clinic = clinic_for_staff(request.user, clinic_id)
        return Response(KitOrderSerializer(kit_orders_of(clinic), many=True).data)

    @extend_schema(request=KitOrderCreateSerializer, responses={201: KitOrderSerializer})
    def post(self, request, clinic_id):
        clinic = clinic_for_staff(request.user, clinic_id)
        payload = KitOrderCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        kit = kit_order_create_from(clinic=clinic, user=request.user, data=payload.validated_data)
        kit = kit_orders_of(clinic).get(pk=kit.pk)
        return Response(KitOrderSerializer(kit).data, status=status.HTTP_201_CREATED)


class KitOrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the kit is cancelled (recorded on the order).")


class ClinicKitOrderCancelView(APIView):
    """POST cancels a kit not yet dispatched (its invoice voided, stock released); 409 with ``status`` otherwise."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=KitOrderCancelSerializer, responses=KitOrderSerializer)
    def post(self, request, clinic_id, pk):
        clinic = clinic_for_staff(request.user, clinic_id)
        if not KitOrder.objects.filter(pk=pk, clinic=clinic).exists():
            raise NotFound("Kit order not found.")
        payload = KitOrderCancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        kit_services.kit_order_cancel(kit_order_id=pk, user=request.user, reason=payload.validated_data["reason"])
        return Response(KitOrderSerializer(kit_orders_of(clinic).get(pk=pk)).data)


class KitAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = KitAlert
        fields = ["id", "pump", "kit_order", "clinic", "reason", "message", "level", "opened_at",
                  "last_escalated_at", "resolved_at", "resolved_by", "resolution"]
        read_only_fields = fields


class KitAlertResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=2000)


class KitAlertListView(generics.ListAPIView):
    """Pharmacy staff: the open kit alerts, highest level first, paginated (``?page=``) like every list."""

    permission_classes = [IsAuthenticated]
    serializer_class = KitAlertSerializer
    filter_backends: list = []  # no filters and no ordering parameter: ``?ordering=`` is ignored

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return KitAlert.objects.none()
        if not can_handle_alerts(self.request.user):
            raise NotFound("Not found.")
        return KitAlert.objects.filter(resolved_at__isnull=True).order_by("-level", "opened_at", "pk")


class KitAlertResolveView(APIView):
    """Pharmacy staff: resolve an alert (it stops escalating), saying what was done."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=KitAlertResolveSerializer, responses=KitAlertSerializer)
    def post(self, request, pk):
        if not can_handle_alerts(request.user):
            raise NotFound("Alert not found.")
        payload = KitAlertResolveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        alert = kit_services.kit_alert_resolve(alert_id=pk, user=request.user,
                                               resolution=payload.validated_data["resolution"])
        return Response(KitAlertSerializer(alert).data)
