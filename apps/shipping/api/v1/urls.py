from django.urls import path

from apps.shipping.api.v1 import views

app_name = "shipping"

# Included under /api/v1/orders/ (before the orders routes) by core/urls.py.
urlpatterns = [
    path("<uuid:order_id>/ship/", views.OrderShipView.as_view(), name="ship"),
    path("<uuid:order_id>/deliver/", views.OrderDeliverView.as_view(), name="deliver"),
]
