from django.urls import path

from apps.events.api.v1 import views

app_name = "events"

urlpatterns = [
    path("", views.EventStreamView.as_view(), name="stream"),
    path("subscriptions/", views.SubscriptionListView.as_view(), name="subscriptions"),
    path("dead-letters/", views.DeadLetterListView.as_view(), name="dead-letters"),
    path(
        "dead-letters/<int:delivery_id>/retry/",
        views.DeadLetterRetryView.as_view(),
        name="dead-letter-retry",
    ),
]
