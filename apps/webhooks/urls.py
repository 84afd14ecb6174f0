"""Routes of the webhook endpoints, included under ``/api/v1/webhooks/`` by ``core/urls.py``."""

from django.urls import path

from apps.webhooks.views import PaymentWebhookView, ShippingWebhookView

app_name = "webhooks"

urlpatterns = [
    path("payment/", PaymentWebhookView.as_view(), name="payment"),
    path("shipping/", ShippingWebhookView.as_view(), name="shipping"),
]
