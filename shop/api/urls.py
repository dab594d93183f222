"""API routes of the shop app, mounted under /api/v1/ (URL names in the ``shop-api`` namespace)."""

from django.urls import path

from .. import converters  # noqa: F401  (registers <order_number:>)
from . import prescription_views, views

app_name = "shop-api"
urlpatterns = [
    path("cart/", views.CartView.as_view(), name="cart"),
    path("cart/items/", views.CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:pk>/", views.CartItemView.as_view(), name="cart-item"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("orders/", views.OrderListView.as_view(), name="order-list"),
    path("orders/<order_number:number>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<order_number:number>/pay/", views.OrderPayView.as_view(), name="order-pay"),
    path("orders/<order_number:number>/payment/", views.OrderPaymentStatusView.as_view(), name="order-payment-status"),
    path("orders/<order_number:number>/setup-intent/", views.OrderSetupIntentView.as_view(), name="order-setup-intent"),
    path("orders/<order_number:number>/cancel/", views.OrderCancelView.as_view(), name="order-cancel"),
    path("orders/<order_number:number>/prescriptions/", prescription_views.OrderPrescriptionsView.as_view(),
         name="order-prescriptions"),
    path("payments/stripe/webhook/", views.StripeWebhookView.as_view(), name="stripe-webhook"),
]
