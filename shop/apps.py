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
        if receivers.delivered_order_holds_product not in purchase_checkers:
            purchase_checkers.append(receivers.delivered_order_holds_product)
