"""Storefront pages of the catalog, one module per page: the catalogue, the product page, its review form."""
