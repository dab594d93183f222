"""Storefront pages of the shop app (mounted at /, namespace "shop")."""

from django.urls import path

from . import converters  # noqa: F401  (registers <order_number:>)
from .views import cart, checkout, orders, prescriptions

app_name = "shop"
urlpatterns = [
    path("cart/", cart.cart, name="cart"),
    path("cart/items/add/", cart.cart_item_add, name="cart-item-add"),
    path("cart/items/<int:pk>/", cart.cart_item_update, name="cart-item-update"),
    path("cart/items/<int:pk>/remove/", cart.cart_item_remove, name="cart-item-remove"),
    path("checkout/", checkout.checkout, name="checkout"),
    path("orders/<order_number:number>/pay/", checkout.order_pay, name="order-pay"),
    path("account/orders/", orders.order_list, name="order-list"),
    path("account/orders/<order_number:number>/", orders.order_detail, name="order-detail"),
    path("account/orders/<order_number:number>/cancel/", orders.order_cancel_view, name="order-cancel"),
    path(
        "account/orders/<order_number:number>/prescriptions/",
        prescriptions.order_prescription_upload_view,
        name="order-prescription-upload",
    ),
]
