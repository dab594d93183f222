from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("auth/", include("pharmacy.auth_api")),
    path("", include("catalog.api.urls")),
    path("", include("rx.api.urls")),
    path("", include("shop.api.urls")),
]

handler400 = "pharmacy.api.bad_request"  # JSON error bodies under /api/, the usual pages elsewhere
handler404 = "pharmacy.api.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include(api_v1)),
    path("accounts/", include("pharmacy.auth_urls")),
    path("", include("rx.urls")),
    path("", include("shop.urls")),
    path("", include("catalog.urls")),
]
