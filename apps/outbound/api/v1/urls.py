from django.urls import path

from apps.outbound.api.v1 import views

app_name = "outbound"

urlpatterns = [
    path("", views.EndpointListView.as_view(), name="endpoints"),
    path("<uuid:endpoint_id>/", views.EndpointDetailView.as_view(), name="endpoint"),
    path(
        "<uuid:endpoint_id>/rotate-secret/", views.RotateSecretView.as_view(), name="rotate-secret"
    ),
    path("<uuid:endpoint_id>/replay/", views.ReplayView.as_view(), name="replay"),
    path("<uuid:endpoint_id>/messages/", views.MessageListView.as_view(), name="messages"),
    path(
        "<uuid:endpoint_id>/messages/<int:message_id>/",
        views.MessageDetailView.as_view(),
        name="message",
    ),
    path(
        "<uuid:endpoint_id>/messages/<int:message_id>/redeliver/",
        views.RedeliverView.as_view(),
        name="redeliver",
    ),
]
