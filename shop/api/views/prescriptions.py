"""API: an order's prescription lines (GET their cover) and linking prescriptions to them (POST).

``POST /api/v1/orders/<number>/prescriptions/`` takes one of:
- JSON ``{"prescription": id, "lines": [line ids]}``: an existing prescription of one of your patients;
- multipart ``file`` + ``patient`` (+ optional ``lines``, ``notes``): an uploaded prescription;
- JSON ``{"patient": id, "prescriber": {name, npi, ...}, "lines": [...]}``: a transfer request.
``lines`` defaults to every prescription-required line. Only the order's owner: anyone else 404.
"""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import parsers, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser
from core.errors import DomainError

from ...access import order_for_user
from ...services import prescriptions as links
from ...services.gating import order_rx_status
from ..serializers import LineCoverSerializer, LinkSerializer


def _status_body(order):
    return {
        "order": order.number,
        "status": order.status,
        "lines": LineCoverSerializer(order_rx_status(order=order), many=True).data,
    }


class OrderPrescriptionsView(APIView):
    permission_classes = [permissions.AllowAny]  # anyone but the owner gets 404
    parser_classes = [JSONParser, parsers.MultiPartParser, parsers.FormParser]

    @extend_schema(
        responses=inline_serializer(
            "OrderPrescriptions",
            {
                "order": serializers.CharField(),
                "status": serializers.CharField(),
                "lines": LineCoverSerializer(many=True),
            },
        )
    )
    def get(self, request, number):
        return Response(_status_body(order_for_user(user=request.user, number=number)))

    @extend_schema(
        request=LinkSerializer,
        responses={
            201: inline_serializer(
                "OrderPrescriptionsLinked",
                {
                    "order": serializers.CharField(),
                    "status": serializers.CharField(),
                    "lines": LineCoverSerializer(many=True),
                },
            )
        },
    )
    def post(self, request, number):
        order_for_user(user=request.user, number=number)  # 404 before validating anything
        # A JSON body that is not an object (a list, a string, a number) goes to the serializer
        # as is, which answers 400; dict() of it raised a TypeError (a 500).
        data = dict(request.data) if isinstance(request.data, dict) else request.data
        if hasattr(request.data, "getlist"):
            data = {k: request.data.get(k) for k in request.data if k != "lines"}
            if request.data.getlist("lines"):
                data["lines"] = [v for raw in request.data.getlist("lines") for v in str(raw).split(",") if v]
        form = LinkSerializer(data=data)
        form.is_valid(raise_exception=True)
        v = form.validated_data
        if v.get("prescription") is not None:
            links.order_prescription_link(
                user=request.user, number=number, prescription_id=v["prescription"], line_ids=v.get("lines")
            )
        elif v.get("file") is not None:
            links.order_prescription_upload(
                user=request.user,
                number=number,
                patient_id=v["patient"],
                file=v["file"],
                line_ids=v.get("lines"),
                notes=v["notes"],
                request=request,
            )
        elif v.get("prescriber") is not None:
            links.order_prescription_transfer(
                user=request.user,
                number=number,
                patient_id=v["patient"],
                prescriber=v["prescriber"],
                line_ids=v.get("lines"),
                transfer_pharmacy=v["transfer_pharmacy"],
                notes=v["notes"],
                request=request,
            )
        else:  # pragma: no cover - validate() requires one
            raise DomainError("prescription: nothing to link.")
        return Response(_status_body(order_for_user(user=request.user, number=number)), status=status.HTTP_201_CREATED)
