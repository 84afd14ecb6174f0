from django.urls import path

from apps.orders.api.v1 import views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListCreateView.as_view(), name="list"),
    path("<uuid:order_id>/", views.OrderDetailView.as_view(), name="detail"),
    path("<uuid:order_id>/pay/", views.OrderPayView.as_view(), name="pay"),
    path("<uuid:order_id>/cancel/", views.OrderCancelView.as_view(), name="cancel"),
    path("<uuid:order_id>/process/", views.OrderProcessView.as_view(), name="process"),
    path("<uuid:order_id>/ship/", views.OrderShipView.as_view(), name="ship"),
    path("<uuid:order_id>/deliver/", views.OrderDeliverView.as_view(), name="deliver"),
    path("<uuid:order_id>/events/", views.OrderEventsView.as_view(), name="events"),
    path("<uuid:order_id>/history/", views.OrderHistoryView.as_view(), name="history"),
]
