from django.urls import path

from apps.recovery.api.v1 import views

app_name = "recovery"

urlpatterns = [
    path("", views.StuckOrderListView.as_view(), name="stuck-orders"),
]
