from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = "Payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.orders import actions, sections, verification
        from apps.payments.actions import PAY, REFUND
        from apps.payments.sections import PROVIDER, REFUNDS
        from apps.payments.strategies import check_configuration
        from apps.payments.verification import check_money

        # A method accepted at order creation without a strategy would fail later, at payment.
        check_configuration()
        sections.register("payment", PROVIDER)
        sections.register("refunds", REFUNDS)
        actions.register(PAY)
        actions.register(REFUND)
        verification.register_check("payment money", check_money)
