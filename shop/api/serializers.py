"""Serializers of the shop API: input validation and the shapes of carts, orders, payments and an
order's prescription lines."""

from rest_framework import serializers

from catalog import ndc as ndc_rules

from ..models import Order, OrderEvent, OrderLine, Payment, Refund
from ..services.cart import MAX_QUANTITY
from ..services.gating import line_cover
from ..state import CANCELLABLE, PAYABLE

# --- input --------------------------------------------------------------------------------


class NDCField(serializers.CharField):
    """An NDC in any accepted form, normalised to 11 digits."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return ndc_rules.normalize_ndc(text)
        except ndc_rules.InvalidNDC as exc:
            raise serializers.ValidationError(str(exc)) from exc


class CartItemCreateSerializer(serializers.Serializer):
    product = NDCField(help_text="The product's NDC (11 digits, or hyphenated).")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


class CartItemUpdateSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class CheckoutSerializer(serializers.Serializer):
    shipping_name = serializers.CharField(max_length=200)
    shipping_line1 = serializers.CharField(max_length=200)
    shipping_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    shipping_city = serializers.CharField(max_length=100)
    shipping_state = serializers.CharField(max_length=50)
    shipping_postal_code = serializers.RegexField(r"^[0-9A-Za-z][0-9A-Za-z \-]{1,18}$", max_length=20)
    shipping_country = serializers.RegexField(
        r"^[A-Za-z]{2}$", required=False, default="US", help_text="ISO 3166-1 alpha-2 code."
    )
    shipping_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")

    def shipping(self) -> dict:
        return {
            key.removeprefix("shipping_"): value
            for key, value in self.validated_data.items()
            if key.startswith("shipping_")
        }


class PaySerializer(serializers.Serializer):
    payment_method = serializers.CharField(max_length=255, help_text="A Stripe PaymentMethod id, e.g. pm_card_visa.")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class LinkSerializer(serializers.Serializer):
    prescription = serializers.IntegerField(required=False, min_value=1)
    patient = serializers.IntegerField(required=False, min_value=1)
    file = serializers.FileField(required=False)
    prescriber = serializers.DictField(required=False)
    lines = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, allow_empty=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    transfer_pharmacy = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        ways = [k for k in ("prescription", "file", "prescriber") if attrs.get(k) is not None]
        if len(ways) != 1:
            raise serializers.ValidationError(
                {
                    "prescription": [
                        "Give exactly one of: prescription (an id), file (with patient), or prescriber (with patient)."
                    ]
                }
            )
        if ways[0] in ("file", "prescriber") and not attrs.get("patient"):
            raise serializers.ValidationError({"patient": ["This field is required with a file or a prescriber."]})
        return attrs


# --- output -------------------------------------------------------------------------------


class CartProductSerializer(serializers.Serializer):
    ndc = serializers.CharField()
    ndc_display = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    rx_required = serializers.BooleanField()


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="line.id")
    product = CartProductSerializer(source="line.product")
    quantity = serializers.IntegerField(source="line.quantity")
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    available = serializers.IntegerField()


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    quantity = serializers.IntegerField(help_text="Units in the cart.")
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class OrderLineSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="product_name")
    ndc_display = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "name",
            "ndc",
            "ndc_display",
            "rx_required",
            "unit_price",
            "quantity",
            "line_total",
            "refunded_amount",
        ]

    def get_ndc_display(self, line) -> str:
        return ndc_rules.format_ndc(line.ndc)


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = OrderEvent
        fields = ["from_status", "to_status", "actor", "reason", "created_at"]


class PaymentSerializer(serializers.ModelSerializer):
    intent_id = serializers.CharField(source="stripe_payment_intent_id", allow_null=True)

    class Meta:
        model = Payment
        fields = ["attempt", "intent_id", "status", "amount_cents", "currency", "last_error", "created_at"]


class RefundSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="order_line_id", allow_null=True)

    class Meta:
        model = Refund
        fields = ["id", "line", "amount", "status", "reason", "created_at"]


class ShippingSerializer(serializers.Serializer):
    name = serializers.CharField(source="shipping_name")
    line1 = serializers.CharField(source="shipping_line1")
    line2 = serializers.CharField(source="shipping_line2")
    city = serializers.CharField(source="shipping_city")
    state = serializers.CharField(source="shipping_state")
    postal_code = serializers.CharField(source="shipping_postal_code")
    country = serializers.CharField(source="shipping_country")
    phone = serializers.CharField(source="shipping_phone")


class OrderSummarySerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display")
    lines = OrderLineSerializer(many=True)
    payable = serializers.SerializerMethodField()
    cancellable = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "status_display",
            "created_at",
            "updated_at",
            "currency",
            "subtotal",
            "total",
            "total_cents",
            "reservation_expires_at",
            "payable",
            "cancellable",
            "lines",
        ]

    def get_payable(self, order) -> bool:
        return order.status in PAYABLE

    def get_cancellable(self, order) -> bool:
        return order.status in CANCELLABLE


class PrescriptionCoverSerializer(serializers.Serializer):
    """A prescription line's cover, as the order page shows it (``shop.services.gating.line_cover``)."""

    status = serializers.CharField(help_text="covered, waiting or not_covered")
    prescription = serializers.IntegerField(source="linked_prescription_id", allow_null=True)
    covered_by = serializers.SerializerMethodField()
    summary = serializers.CharField(help_text="Which prescription covers the line and why, or why none does yet.")

    def get_covered_by(self, cover) -> int | None:
        return cover.prescription.pk if cover.prescription else None


class OrderDetailLineSerializer(OrderLineSerializer):
    prescription_cover = serializers.SerializerMethodField(help_text="Null for a line needing no prescription.")

    class Meta(OrderLineSerializer.Meta):
        fields = OrderLineSerializer.Meta.fields + ["prescription_cover"]

    def get_prescription_cover(self, line) -> dict | None:
        return PrescriptionCoverSerializer(line_cover(line=line)).data if line.rx_required else None


class OrderSerializer(OrderSummarySerializer):
    lines = OrderDetailLineSerializer(many=True)
    shipping = ShippingSerializer(source="*")
    events = OrderEventSerializer(many=True)
    payments = PaymentSerializer(many=True)
    refunds = RefundSerializer(many=True)

    class Meta(OrderSummarySerializer.Meta):
        fields = OrderSummarySerializer.Meta.fields + ["email", "shipping", "events", "payments", "refunds"]


class PaymentInfoSerializer(serializers.Serializer):
    publishable_key = serializers.CharField()
    setup_intent_client_secret = serializers.CharField(allow_null=True)
    amount_cents = serializers.IntegerField()
    currency = serializers.CharField()
    stripe_js_url = serializers.CharField()
    test_mode = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)


class PayResultSerializer(serializers.Serializer):
    intent_id = serializers.CharField(allow_null=True)
    status = serializers.CharField(help_text="The PaymentIntent's status: succeeded, requires_action, processing …")
    order_status = serializers.CharField()
    client_secret = serializers.CharField(allow_null=True, help_text="Only when status is requires_action.")


class LineCoverSerializer(serializers.Serializer):
    line = serializers.IntegerField(source="line.pk")
    product = serializers.CharField(source="line.product_name")
    quantity = serializers.IntegerField(source="line.quantity")
    status = serializers.CharField(help_text="covered, waiting or not_covered")
    prescription = serializers.IntegerField(source="linked_prescription_id", allow_null=True)
    covered_by = serializers.SerializerMethodField()
    reasons = serializers.ListField(child=serializers.CharField())
    summary = serializers.CharField(help_text="Which prescription covers the line and why, or why none does yet.")

    def get_covered_by(self, cover) -> int | None:
        return cover.prescription.pk if cover.prescription else None
