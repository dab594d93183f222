"""Storefront pages of the shop app (mounted at /, namespace "shop")."""

from django.urls import path

from . import converters, views, views_prescriptions  # noqa: F401  (converters: <order_number:>)

app_name = "shop"
urlpatterns = [
    path("cart/", views.cart, name="cart"),
    path("cart/items/add/", views.cart_item_add, name="cart-item-add"),
    path("cart/items/<int:pk>/", views.cart_item_update, name="cart-item-update"),
    path("cart/items/<int:pk>/remove/", views.cart_item_remove, name="cart-item-remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/<order_number:number>/pay/", views.order_pay, name="order-pay"),
    path("account/orders/", views.order_list, name="order-list"),
    path("account/orders/<order_number:number>/", views.order_detail, name="order-detail"),
    path("account/orders/<order_number:number>/cancel/", views.order_cancel_view, name="order-cancel"),
    path("account/orders/<order_number:number>/prescriptions/", views_prescriptions.order_prescription_upload_view,
         name="order-prescription-upload"),
]
