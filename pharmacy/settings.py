"""Settings, read from the environment in this one place (12-factor).

PHARMACY_ENV selects the profile:
- ``development`` (default): safe embedded defaults. SQLite, a Celery broker on the
  filesystem (no server), the local Stripe stand-in, e-mail to the console, DEBUG on.
- ``test``: what ``make test`` uses; PostgreSQL and Redis come from DATABASE_URL / REDIS_URL.
- ``production``: DEBUG off; SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL and the
  Stripe keys are required, and ``manage.py check --deploy`` passes with no warnings.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PHARMACY_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
PHARMACY_ENV = env.str("PHARMACY_ENV", default="development")
if PHARMACY_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("PHARMACY_ENV must be development, test or production")
PRODUCTION = PHARMACY_ENV == "production"


def _required_in_production(name, default, **kwargs):
    """Return the variable, with a development default that production never uses."""
    if PRODUCTION:
        value = env.str(name, default="")
        if not value:
            raise ImproperlyConfigured(f"{name} must be set when PHARMACY_ENV=production")
        return value
    return env.str(name, default=default, **kwargs)


SECRET_KEY = _required_in_production("SECRET_KEY", "dev-insecure-3f9a1c7e5b2d4a6f8e0c1b3d5f7a9c2e4b6d8f0a1c3e5g7")
DEBUG = env.bool("DEBUG", default=PHARMACY_ENV == "development") and not PRODUCTION
ALLOWED_HOSTS = (
    env.list("ALLOWED_HOSTS")
    if PRODUCTION or "ALLOWED_HOSTS" in env.ENVIRON
    else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when PHARMACY_ENV=production")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets served from the project, not a CDN
    "axes",
    "core",
    "catalog",
    "rx",
    "shop",
    "pumps",
]

MIDDLEWARE = [
    "core.middleware.HealthCheckMiddleware",
    "core.outages.DatabaseOutageMiddleware",  # PostgreSQL refusing connections: 503 with a reason, not 500
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestInputGuardMiddleware",  # a NUL in the path, a query or form field: 400 naming it
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.headers.ContentSecurityPolicyMiddleware",
    "core.headers.PermissionsPolicyMiddleware",
    # Last: turns a locked-out sign-in (axes) into a 429 with AXES_COOLOFF_MESSAGE.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pharmacy.urls"
WSGI_APPLICATION = "pharmacy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",  # csp_nonce for the few inline <style>/<script>
                "core.context_processors.site",
            ]
        },
    }
]

# --- Database -----------------------------------------------------------------------------
if PRODUCTION and not env.str("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set when PHARMACY_ENV=production")
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: a new PostgreSQL connection per request costs ~2.7x throughput (bench/).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if PRODUCTION else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The web server, the worker and beat share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in lockout (django-axes): AXES_FAILURE_LIMIT failures for a username or from an address within
# AXES_COOLOFF_MINUTES lock it out that long (429, the locked_out page); a success resets the count.
# The axes backend comes first: it refuses a locked-out attempt before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Off in the test profile so the suite can sign in freely; the lockout tests switch it on.
AXES_ENABLED = env.bool("AXES_ENABLED", default=PHARMACY_ENV != "test")
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_COOLOFF_MESSAGE = f"Too many failed sign-in attempts; try again in {AXES_COOLOFF_MINUTES} minutes."
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one alone locks
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"  # the storefront layout, the message, a way on
# The client address behind NUM_PROXIES trusted proxies (the same rule as the API throttle).
AXES_CLIENT_IP_CALLABLE = "core.lockout.client_ip"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:product-list"
LOGOUT_REDIRECT_URL = "catalog:product-list"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The pharmacy's own calendar (business days, cut-off hours) is computed in this zone.
PHARMACY_TIME_ZONE = env.str("PHARMACY_TIME_ZONE", default="America/New_York")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Outside production WhiteNoise serves straight from the finders (no collectstatic needed).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Uploaded prescriptions are PHI: kept outside any public URL and served by a view
        # that checks access and writes the audit log.
        "OPTIONS": {
            "location": str(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private"))),
            "base_url": "/private/",
        },
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- E-mail -------------------------------------------------------------------------------
# Django 6.1 mailers. Development prints mail to the console; production sends by SMTP.
_EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": (
            {
                "host": env.str("EMAIL_HOST", default="localhost"),
                "port": env.int("EMAIL_PORT", default=25),
                "username": env.str("EMAIL_HOST_USER", default=""),
                "password": env.str("EMAIL_HOST_PASSWORD", default=""),
                "use_tls": env.bool("EMAIL_USE_TLS", default=False),
            }
            if _EMAIL_BACKEND.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="pharmacy@localhost")
PHARMACY_STAFF_EMAILS = env.list("PHARMACY_STAFF_EMAILS", default=["staff@localhost"])

# --- REST framework and OpenAPI -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",  # a too-deeply nested JSON body is a 400, not a RecursionError 500
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",  # ?page=abc is a 400
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": env.str("AUTH_THROTTLE_RATE", default="30/minute")},
    # Proxies in front of the app (for the client address used by throttling); 0 trusts none.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pharmacy API",
    "DESCRIPTION": "Catalogue, cart and checkout, prescriptions and refill-kit dispatch.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "shop.state.OrderStatus"},
    # /api/docs/ loads Swagger UI from drf-spectacular-sidecar's static files (pinned), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# A shared cache (throttling counts, locks) across gunicorn workers when Redis is there.
CACHES = {
    "default": (
        {
            # Django's Redis cache, except that with Redis down a read misses and a write is skipped.
            "BACKEND": "core.outages.RedisCache",
            "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": "pharmacy",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},  # a dead Redis costs a second at most
        }
        if REDIS_URL and PHARMACY_ENV != "test"  # tests: per-process cache, nothing left between runs
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when PHARMACY_ENV=production")
CELERY_QUEUE_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task whose worker died is redelivered after this many seconds.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        # How often kombu rescans for such tasks (seconds between scans x scans skipped).
        "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
        "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    }
else:
    # No server needed: the web process, the worker and beat pass messages through files.
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "queue"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "queue"),
        "processed_folder": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
        "store_processed": False,
    }
    # Every process that enqueues (web, seed command, worker, beat) needs the folders.
    for _key, _folder in CELERY_BROKER_TRANSPORT_OPTIONS.items():
        if _key.endswith(("_folder", "_folder_in", "_folder_out")):
            Path(_folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The beat schedule is declared by each app (see pharmacy/celery.py) and collected here.
CELERY_BEAT_SCHEDULE: dict = {}

# --- Stripe -------------------------------------------------------------------------------
# Without keys, development runs against the local Stripe stand-in started by `make run`.
LOCALSTRIPE_PORT = env.int("LOCALSTRIPE_PORT", default=8420)
STRIPE_SECRET_KEY = _required_in_production("STRIPE_SECRET_KEY", "sk_test_localstripe")
STRIPE_PUBLISHABLE_KEY = _required_in_production("STRIPE_PUBLISHABLE_KEY", "pk_test_localstripe")
STRIPE_WEBHOOK_SECRET = _required_in_production("STRIPE_WEBHOOK_SECRET", "whsec_localstripe")
STRIPE_API_BASE = env.str(
    "STRIPE_API_BASE",
    default="" if PRODUCTION or "STRIPE_SECRET_KEY" in env.ENVIRON else f"http://127.0.0.1:{LOCALSTRIPE_PORT}",
)
STRIPE_CURRENCY = env.str("STRIPE_CURRENCY", default="usd")
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)
# stripe-python retries connection errors this many times; each call gives up after the timeout.
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_TIMEOUT_SECONDS = env.int("STRIPE_TIMEOUT_SECONDS", default=30)

# --- Business settings --------------------------------------------------------------------
CART_RESERVATION_MINUTES = env.int("CART_RESERVATION_MINUTES", default=15)
RESERVATION_TTL = timedelta(minutes=CART_RESERVATION_MINUTES)
# A non-controlled prescription expires this long after it was written (state law varies).
RX_NONCONTROLLED_EXPIRY_DAYS = env.int("RX_NONCONTROLLED_EXPIRY_DAYS", default=365)
# Refilling before this fraction of the last fill's days supply has passed is "too soon".
RX_EARLY_REFILL_THRESHOLD = env.float("RX_EARLY_REFILL_THRESHOLD", default=0.75)
RX_UPLOAD_MAX_BYTES = env.int("RX_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
# Largest prescription image, in pixels, read from its header before decoding (rx.services.uploads):
# 40 megapixels is more than a 600 dpi scan of a letter page (about 34 MP) and decodes to about 120 MB.
RX_UPLOAD_MAX_PIXELS = env.int("RX_UPLOAD_MAX_PIXELS", default=40_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = RX_UPLOAD_MAX_BYTES + 1024 * 1024
API_MAX_JSON_BYTES = env.int("API_MAX_JSON_BYTES", default=1024 * 1024)  # larger JSON bodies: 413 (core.api.parsers)
# Most units one received lot may hold (catalog stock_receive, API, admin): pharmacy lots run to tens of
# thousands, so a larger figure is a slip (or abuse) that would sell stock that is not on the shelf.
CATALOG_LOT_MAX_QUANTITY = env.int("CATALOG_LOT_MAX_QUANTITY", default=100_000)
# Never allocate a lot that expires before the dispensed days supply ends.
FULFILMENT_EXPIRY_MARGIN_DAYS = env.int("FULFILMENT_EXPIRY_MARGIN_DAYS", default=0)
# The carrier that books and tracks shipments (shop.carriers.carrier_get: a dotted path to a Carrier
# class), and the built-in local carrier's business days from shipping to delivery.
SHOP_CARRIER = env.str("SHOP_CARRIER", default="shop.carriers.LocalCarrier")
LOCAL_CARRIER_LEAD_BUSINESS_DAYS = env.int("LOCAL_CARRIER_LEAD_BUSINESS_DAYS", default=2)
# Extension points: a lower app asks, a higher app answers (dotted paths, like AUTHENTICATION_BACKENDS).
CATALOG_PURCHASE_CHECKERS = ["shop.hooks.delivered_order_holds_product"]  # did the user receive it?
RX_SELF_VERIFICATION_CHECKS = ["shop.hooks.pharmacist_placed_linked_order"]  # may this pharmacist verify it?
RX_REVIEW_CONTEXT_PROVIDERS = ["shop.hooks.order_lines_waiting_on_prescription"]  # panels on the review page
SHOP_ORDER_LINE_PATIENT_PROVIDERS = ["pumps.hooks.kit_order_line_patient"]  # whose line is it?
SHOP_ORDER_ACCESS_RESTRICTIONS = ["pumps.hooks.kit_orders_withheld"]  # own orders a user may not see
# Called in fulfilment once an order is allocated, before its dispenses (order=, picks=); none in production.
SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS: list[str] = []
# Refill-kit shipping (core.calendar.ShippingPolicy), in PHARMACY_TIME_ZONE: the carrier's
# cut-off (HH:MM), business days from shipping to delivery, calendar days the kit must be at the
# clinic before it is needed (>= 1), and extra closed days (ISO dates) on top of US federal holidays.
PUMP_KIT_CUTOFF = env.str("PUMP_KIT_CUTOFF", default="15:00")
PUMP_KIT_LEAD_BUSINESS_DAYS = env.int("PUMP_KIT_LEAD_BUSINESS_DAYS", default=2)
PUMP_KIT_SAFETY_MARGIN_DAYS = env.int("PUMP_KIT_SAFETY_MARGIN_DAYS", default=1)
PUMP_KIT_EXTRA_HOLIDAYS = env.list("PUMP_KIT_EXTRA_HOLIDAYS", default=[])
# Refill-kit orders (pumps.services.kits): standing orders create the kit order this many days
# before the ship-by date; an open kit alert escalates one level every KIT_ALERT_ESCALATE_HOURS,
# and from level 2 on also goes to KIT_ALERT_ESCALATION_EMAILS (pharmacy managers, on call).
KIT_ORDER_LEAD_DAYS = env.int("KIT_ORDER_LEAD_DAYS", default=14)
KIT_ALERT_ESCALATE_HOURS = env.float("KIT_ALERT_ESCALATE_HOURS", default=4)
KIT_ALERT_ESCALATION_EMAILS = env.list("KIT_ALERT_ESCALATION_EMAILS", default=["pharmacy-manager@localhost"])

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# Content-Security-Policy (Django's own, through core.headers.ContentSecurityPolicyMiddleware, which
# adds the origin of STRIPE_API_BASE when the local Stripe stand-in is used). The same policy in every
# profile, so development and the browser tests run under what production sends. Scripts and styles
# come from our static files; the few inline <style>/<script> blocks carry the request's nonce
# ({% csp_nonce_attr %}). Stripe.js: script and frames from js.stripe.com, 3-D Secure frames from
# hooks.stripe.com, API calls to api.stripe.com (Stripe's published CSP requirements).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE, "https://js.stripe.com"],
    # The 500 page is rendered without a request, so without a nonce: its one inline <style> by hash.
    "style-src": [CSP.SELF, CSP.NONCE, "'sha256-SlPdcaoFrHx4FSrJO/vLwa6hRjKVc3rJCmZMn7l5p/c='"],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF, "https://api.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Permissions-Policy (core.headers.PermissionsPolicyMiddleware): no page uses the camera, the
# microphone or the location; the Payment Request API only on our pages and Stripe's frames.
PERMISSIONS_POLICY = {
    "camera": "()",
    "microphone": "()",
    "geolocation": "()",
    "payment": '(self "https://js.stripe.com")',
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
