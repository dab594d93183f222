"""API routes of the shop app, mounted under /api/v1/ (URL names in the ``shop-api`` namespace)."""

from django.urls import path

from .. import converters  # noqa: F401  (registers <order_number:>)
from .views import cart, checkout, orders, payments, prescriptions

app_name = "shop-api"
urlpatterns = [
    path("cart/", cart.CartView.as_view(), name="cart"),
    path("cart/items/", cart.CartItemsView.as_view(), name="cart-items"),
    path("cart/items/<int:pk>/", cart.CartItemView.as_view(), name="cart-item"),
    path("checkout/", checkout.CheckoutView.as_view(), name="checkout"),
    path("orders/", orders.OrderListView.as_view(), name="order-list"),
    path("orders/<order_number:number>/", orders.OrderDetailView.as_view(), name="order-detail"),
    path("orders/<order_number:number>/pay/", payments.OrderPayView.as_view(), name="order-pay"),
    path(
        "orders/<order_number:number>/payment/", payments.OrderPaymentStatusView.as_view(), name="order-payment-status"
    ),
    path(
        "orders/<order_number:number>/setup-intent/", payments.OrderSetupIntentView.as_view(), name="order-setup-intent"
    ),
    path("orders/<order_number:number>/cancel/", orders.OrderCancelView.as_view(), name="order-cancel"),
    path(
        "orders/<order_number:number>/prescriptions/",
        prescriptions.OrderPrescriptionsView.as_view(),
        name="order-prescriptions",
    ),
    path("payments/stripe/webhook/", payments.StripeWebhookView.as_view(), name="stripe-webhook"),
]
