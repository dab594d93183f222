from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from catalog.services.reviews import purchase_checkers
        from catalog.services.stock import stock_changed

        from . import receivers

        user_logged_in.connect(receivers.merge_cart_on_login, dispatch_uid="shop.merge_cart_on_login")
        stock_changed.connect(receivers.check_low_stock_on_change, dispatch_uid="shop.check_low_stock")
        from . import receivers_kits

        receivers_kits.connect()
        if receivers.delivered_order_holds_product not in purchase_checkers:
            purchase_checkers.append(receivers.delivered_order_holds_product)

        # Prescriptions gating and fulfilment.
        from rx.services import verification
        from rx.signals import prescription_decided, prescription_status_changed

        from .signals import order_status_changed

        prescription_decided.connect(receivers.gate_orders_on_prescription_change, dispatch_uid="shop.gate_decided")
        prescription_status_changed.connect(receivers.gate_orders_on_prescription_change,
                                            dispatch_uid="shop.gate_status")
        order_status_changed.connect(receivers.fulfil_and_notify_on_status_change, dispatch_uid="shop.fulfil_notify")
        if receivers.pharmacist_placed_linked_order not in verification.self_verification_checks:
            verification.self_verification_checks.append(receivers.pharmacist_placed_linked_order)
        if receivers.order_lines_waiting_on_prescription not in verification.review_context_providers:
            verification.review_context_providers.append(receivers.order_lines_waiting_on_prescription)
