from django.urls import path

from apps.payments.api.v1 import views

app_name = "payments"

# Included under /api/v1/orders/ (before the orders routes) by core/urls.py.
urlpatterns = [
    path("<uuid:order_id>/pay/", views.OrderPayView.as_view(), name="pay"),
    path("<uuid:order_id>/refunds/", views.OrderRefundsView.as_view(), name="refunds"),
]
