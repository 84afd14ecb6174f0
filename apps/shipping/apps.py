from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "apps.shipping"
    label = "shipping"
    verbose_name = "Shipping"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.orders import summaries
        from apps.shipping.strategies import check_configuration
        from apps.shipping.summaries import PROVIDER

        # A method accepted at order creation without a strategy would fail later, at shipping.
        check_configuration()
        summaries.register("shipment", PROVIDER)
