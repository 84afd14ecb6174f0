from django.contrib.auth import views as auth
from django.urls import path

from apps.console import views

app_name = "console"

urlpatterns = [
    path("", views.flow, name="flow"),
    path(
        "login/",
        auth.LoginView.as_view(template_name="console/login.html", next_page="/console/"),
        name="login",
    ),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("failures/", views.failures, name="failures"),
    path("failures/retry/", views.retry, name="retry"),
    path("stuck-orders/", views.stuck, name="stuck"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("orders/<uuid:order_id>/", views.order, name="order"),
    path("orders/<uuid:order_id>/<str:name>/", views.command, name="command"),
]
