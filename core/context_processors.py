from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    """Expose the few settings every page needs (test-mode banner, Stripe publishable key, the lockout words)."""
    return {
        "STRIPE_PUBLISHABLE_KEY": settings.STRIPE_PUBLISHABLE_KEY,
        "STRIPE_TEST_MODE": settings.STRIPE_SECRET_KEY.startswith("sk_test"),
        "STRIPE_JS_URL": (
            f"{settings.STRIPE_API_BASE}/js.stripe.com/v3/" if settings.STRIPE_API_BASE else "https://js.stripe.com/v3/"
        ),
        "lockout_message": settings.AXES_COOLOFF_MESSAGE,
    }
