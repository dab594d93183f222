from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("auth/", include("core.api.auth")),
    path("", include("catalog.api.urls")),
    path("", include("rx.api.urls")),
    path("", include("shop.api.urls")),
    path("", include("pumps.api.urls")),
]

handler400 = "core.api.errors.bad_request"  # JSON error bodies under /api/, the usual pages elsewhere
handler404 = "core.api.errors.not_found"
handler500 = "core.outages.server_error"  # a database outage met in a middleware: 503, not 500

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include(api_v1)),
    path("accounts/", include("core.urls")),
    path("", include("rx.urls")),
    path("", include("pumps.urls")),
    path("", include("shop.urls")),
    path("", include("catalog.urls")),
]
