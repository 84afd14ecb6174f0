from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "apps.shipping"
    label = "shipping"
    verbose_name = "Shipping"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.orders import actions, sections
        from apps.shipping.actions import DELIVER, SHIP
        from apps.shipping.sections import PROVIDER
        from apps.shipping.strategies import check_configuration

        # A method accepted at order creation without a strategy would fail later, at shipping.
        check_configuration()
        sections.register("shipment", PROVIDER)
        actions.register(SHIP)
        actions.register(DELIVER)
