"""Storefront cart pages: the product page's add-to-cart form, the cart, changing and removing lines.

Thin views: forms parse, ``shop.services.cart`` decides, ``shop.selectors.cart_priced`` reads. Errors
from the services (``core.errors``) become a message on the page, never a 500.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.models import Product
from core.errors import DomainError

from .. import selectors
from ..forms import AddToCartForm, CartLineForm
from ..models import CartLine
from ..services import cart as cart_service


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        return f"{str(label).capitalize()}: {errors[0]}" if label else errors[0]
    return "Please check the form."


@require_POST
def cart_item_add(request):
    """The product page's ``#add-to-cart`` form: add to the cart, or say how many are left."""
    form = AddToCartForm(request.POST)
    product = None
    if form.is_valid() or "product" not in form.errors:
        ndc = form.cleaned_data.get("product") if form.is_valid() else request.POST.get("product", "")
        product = Product.objects.active().filter(ndc=ndc).first()
    if product is None:
        messages.error(request, "That product is not sold here.")
        return redirect("catalog:product-list")
    back = product.get_absolute_url()
    if not form.is_valid():
        messages.error(request, f"Not added to your cart. {_first_error(form)}")
        return redirect(back)
    try:
        cart = cart_service.cart_for_request(request=request, create=True)
        cart_service.cart_add(cart=cart, product=product, quantity=form.cleaned_data["quantity"])
    except DomainError as exc:
        messages.error(request, f"Not added to your cart. {exc.message}")
        return redirect(back)
    quantity = form.cleaned_data["quantity"]
    messages.success(request, f"Added {quantity} × {product.name} to your cart.")
    return redirect("shop:cart")


def cart(request):
    priced = selectors.cart_priced(cart_service.cart_for_request(request=request, create=False))
    return render(request, "shop/cart.html", {"priced": priced})


def _own_line(request, pk) -> CartLine:
    cart = cart_service.cart_for_request(request=request, create=False)
    return get_object_or_404(CartLine.objects.select_related("product"), pk=pk, cart_id=getattr(cart, "pk", None))


@require_POST
def cart_item_update(request, pk):
    line = _own_line(request, pk)
    form = CartLineForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{line.product.name}: quantity not changed. {form.errors['quantity'][0]}")
        return redirect("shop:cart")
    try:
        cart_service.cart_line_update(line=line, quantity=form.cleaned_data["quantity"])
    except DomainError as exc:
        messages.error(request, f"{line.product.name}: quantity not changed. {exc.message}")
    else:
        messages.success(request, f"{line.product.name}: quantity changed to {line.quantity}.")
    return redirect("shop:cart")


@require_POST
def cart_item_remove(request, pk):
    line = _own_line(request, pk)
    name = line.product.name
    cart_service.cart_line_remove(line=line)
    messages.success(request, f"Removed {name} from your cart.")
    return redirect("shop:cart")
