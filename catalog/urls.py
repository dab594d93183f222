"""Storefront pages of the catalog app."""

from django.urls import path

from .views import catalogue, products

app_name = "catalog"
urlpatterns = [
    path("", catalogue.product_list, name="product-list"),
    path("products/<slug:slug>/", products.product_detail, name="product-detail"),
    path("products/<slug:slug>/reviews/", products.review_create, name="review-create"),
]
