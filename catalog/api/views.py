"""Catalogue API views: parse, call a selector or service, render. No business rules here."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import ErrorSerializer

from .. import ndc as ndc_rules
from .. import selectors
from ..filters import ProductFilter
from ..models import Product, Review
from ..services.quotes import product_quote
from ..services.reviews import review_create
from ..services.stock import stock_receive
from .pagination import CatalogPagination
from .serializers import (
    ProductDetailSerializer,
    ProductSerializer,
    QuoteQuerySerializer,
    QuoteSerializer,
    ReviewCreateSerializer,
    ReviewSerializer,
    StockLotCreateSerializer,
    StockLotSerializer,
)

NDC_PARAMETER = OpenApiParameter(
    "ndc",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="11 digits (00832102400), 5-4-2 (00832-1024-00) or a hyphenated 10-digit form (4-4-2, 5-3-2, 5-4-1).",
)
NOT_FOUND = {404: ErrorSerializer}


def product_by_ndc(queryset: QuerySet[Product], raw_ndc: str) -> Product:
    """Return the product of ``queryset`` with this NDC (any accepted form); 400 if malformed, 404 if unknown."""
    try:
        ndc = ndc_rules.normalize_ndc(raw_ndc)
    except ndc_rules.InvalidNDC as exc:
        raise ValidationError({"ndc": [str(exc)]}) from exc
    product = queryset.filter(ndc=ndc).first()
    if product is None:
        raise NotFound(f"No product with NDC {ndc_rules.format_ndc(ndc)}.")
    return product


class ProductListView(generics.ListAPIView):
    """The catalogue: active products with tiers, availability and rating, filtered and ordered."""

    serializer_class = ProductSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    pagination_class = CatalogPagination

    def get_queryset(self):
        return selectors.product_list()

    @extend_schema(summary="List products", responses={200: ProductSerializer(many=True), 400: ErrorSerializer})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ProductDetailView(APIView):
    @extend_schema(
        summary="Product page data",
        parameters=[NDC_PARAMETER],
        responses={200: ProductDetailSerializer, 400: ErrorSerializer, **NOT_FOUND},
    )
    def get(self, request, ndc):
        product = product_by_ndc(selectors.product_detail(), ndc)
        return Response(ProductDetailSerializer(product).data)


class ProductQuoteView(APIView):
    @extend_schema(
        summary="Price a quantity",
        description="Unit price of the tier the quantity falls in, the line total and whether the stock "
        "available now covers it. 409 `no_price_tiers` when the product has no valid price.",
        parameters=[NDC_PARAMETER, QuoteQuerySerializer],
        responses={200: QuoteSerializer, 400: ErrorSerializer, **NOT_FOUND, 409: ErrorSerializer},
    )
    def get(self, request, ndc):
        product = product_by_ndc(selectors.product_list(), ndc)
        query = QuoteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        quote = product_quote(product=product, quantity=query.validated_data["quantity"])
        return Response(
            QuoteSerializer(
                {
                    "ndc": product.ndc,
                    "quantity": quote.quantity,
                    "unit_price": quote.unit_price,
                    "total": quote.total,
                    "available": quote.available,
                    "quantity_available": quote.quantity_available,
                }
            ).data
        )


class ProductReviewsView(generics.GenericAPIView):
    """Approved reviews of a product (anyone); a new review, pending moderation (signed in)."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    pagination_class = CatalogPagination
    serializer_class = ReviewSerializer
    queryset = Review.objects.none()  # for the schema; the real one is per product

    def get_product(self) -> Product:
        return product_by_ndc(Product.objects.active(), self.kwargs["ndc"])

    @extend_schema(
        summary="List approved reviews",
        parameters=[NDC_PARAMETER],
        responses={200: ReviewSerializer(many=True), 400: ErrorSerializer, **NOT_FOUND},
    )
    def get(self, request, ndc):
        page = self.paginate_queryset(selectors.approved_reviews(self.get_product()))
        return self.get_paginated_response(ReviewSerializer(page, many=True).data)

    @extend_schema(
        summary="Write a review",
        description="Creates a pending review. One review per customer and product: 409 `duplicate_review`.",
        parameters=[NDC_PARAMETER],
        request=ReviewCreateSerializer,
        responses={
            201: ReviewSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            **NOT_FOUND,
            409: ErrorSerializer,
        },
    )
    def post(self, request, ndc):
        product = self.get_product()
        data = ReviewCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_create(product=product, user=request.user, **data.validated_data)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class CanReceiveStock(permissions.BasePermission):
    """Staff holding what the admin's "Receive a lot" asks: ``catalog.change_product`` and ``catalog.add_stocklot``."""

    message = "Receiving stock needs the catalog.change_product and catalog.add_stocklot permissions."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_staff and user.has_perms(["catalog.change_product", "catalog.add_stocklot"]))


class ProductLotsView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanReceiveStock]

    @extend_schema(
        summary="Receive a stock lot (staff)",
        description="Staff with the `catalog.change_product` and `catalog.add_stocklot` permissions (403 "
        "otherwise). 400 naming `quantity` outside 1 to `CATALOG_LOT_MAX_QUANTITY` units, and when the lot "
        "has already expired; 409 `duplicate_lot` when the lot number was already received for this product.",
        parameters=[NDC_PARAMETER],
        request=StockLotCreateSerializer,
        responses={
            201: StockLotSerializer,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            **NOT_FOUND,
            409: ErrorSerializer,
        },
    )
    def post(self, request, ndc):
        # Staff may receive stock for a product that is not (yet) on sale.
        product = product_by_ndc(Product.objects.all(), ndc)
        data = StockLotCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lot = stock_receive(product=product, **data.validated_data)
        return Response(StockLotSerializer(lot).data, status=status.HTTP_201_CREATED)
