from django.urls import path

from apps.orders.api.v1 import read_views, views

app_name = "orders"

urlpatterns = [
    path("", views.OrderListCreateView.as_view(), name="list"),
    path("stats/", read_views.OrderStatsView.as_view(), name="stats"),
    path("<uuid:order_id>/", views.OrderDetailView.as_view(), name="detail"),
    path("<uuid:order_id>/cancel/", views.OrderCancelView.as_view(), name="cancel"),
    path("<uuid:order_id>/process/", views.OrderProcessView.as_view(), name="process"),
    path("<uuid:order_id>/events/", views.OrderEventsView.as_view(), name="events"),
    path("<uuid:order_id>/history/", views.OrderHistoryView.as_view(), name="history"),
]
