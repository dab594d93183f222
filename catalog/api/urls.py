"""API routes of the catalog app, mounted under /api/v1/.

``{ndc}`` accepts 11 digits or any hyphenated form that ``catalog.ndc.normalize_ndc`` accepts.
"""

from django.urls import path

from . import views

app_name = "catalog-api"
urlpatterns = [
    path("products/", views.ProductListView.as_view(), name="product-list"),
    path("products/<str:ndc>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("products/<str:ndc>/quote/", views.ProductQuoteView.as_view(), name="product-quote"),
    path("products/<str:ndc>/reviews/", views.ProductReviewsView.as_view(), name="product-reviews"),
    path("products/<str:ndc>/lots/", views.ProductLotsView.as_view(), name="product-lots"),
]
