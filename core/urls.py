from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.events.api.v1 import urls as event_urls
from apps.idempotency.decorators import idempotent_routes
from apps.outbound.api.v1 import urls as outbound_urls
from core.health import healthz, readyz
from core.metrics import metrics_view

api_v1 = [
    # Order actions that belong to payments and shipping (orders may not import those apps) come
    # first under the orders prefix; a path neither claims falls through to the orders routes.
    path("orders/", include("apps.payments.api.v1.urls")),
    path("orders/", include("apps.shipping.api.v1.urls")),
    path("orders/", include("apps.orders.api.v1.urls")),
    path("stuck-orders/", include("apps.recovery.api.v1.urls")),
    # Provider callbacks: authenticated by their signature, not by a user.
    path("webhooks/", include("apps.webhooks.urls")),
    # The event machinery may not import the idempotency app, so its retry route is wrapped here.
    # Outbound webhooks (staff): every POST takes an Idempotency-Key.
    path(
        "webhook-endpoints/",
        include(
            (
                idempotent_routes(
                    outbound_urls.urlpatterns, "endpoints", "rotate-secret", "replay", "redeliver"
                ),
                outbound_urls.app_name,
            )
        ),
    ),
    path(
        "events/",
        include(
            (idempotent_routes(event_urls.urlpatterns, "dead-letter-retry"), event_urls.app_name)
        ),
    ),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("console/", include("apps.console.urls")),
]

handler404 = "core.problems.not_found_view"
handler500 = "core.problems.server_error_view"
