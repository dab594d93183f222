"""Cart API: the shopper's cart (signed-in user's, or the anonymous session's), its lines added,
changed and removed. Each answer is the whole cart, priced at current tiers."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Product
from core.errors import DomainError

from ... import selectors
from ...models import CartLine
from ...services import cart as cart_service
from .. import serializers as s


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
