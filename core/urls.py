from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.views import health

api_v1 = [
    path("orders/", include("apps.orders.api.v1.urls")),
    path("events/", include("apps.events.api.v1.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", health, name="health"),
    path("admin/", admin.site.urls),
]

handler404 = "core.problems.not_found_view"
handler500 = "core.problems.server_error_view"
