"""Storefront pages of the catalog app."""

from django.urls import path

from .views import catalogue, products, reviews

app_name = "catalog"
urlpatterns = [
    path("", catalogue.product_list, name="product-list"),
    path("products/<slug:slug>/", products.product_detail, name="product-detail"),
    path("products/<slug:slug>/reviews/", reviews.review_create, name="review-create"),
]
