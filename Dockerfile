# Production image: the web (gunicorn), worker and beat services of docker-compose.yml all run it.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PHARMACY_ENV=production PHARMACY_VAR_DIR=/var/lib/pharmacy
WORKDIR /app
# /var/lib/pharmacy/private is PRIVATE_MEDIA_ROOT in docker-compose.yml (the private-media volume): it must
# exist in the image and belong to the pharmacy user, since Docker seeds a new named volume with the
# image directory's owner and mode (a path the image lacks would be created root-owned, unwritable).
RUN useradd --system --home /app pharmacy \
    && mkdir -p /var/lib/pharmacy/private \
    && chown -R pharmacy:pharmacy /var/lib/pharmacy \
    && chmod 0700 /var/lib/pharmacy/private
# Production dependencies only (requirements/base.txt); dev.txt adds the local Stripe stand-in,
# test and lint tools, none of which the web, worker or beat services import.
COPY requirements/base.txt requirements/base.txt
RUN pip install -r requirements/base.txt
COPY . .
# collectstatic needs settings that import cleanly; these build-time values are never used at run time.
RUN SECRET_KEY=build ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://build:6379/0 \
    STRIPE_SECRET_KEY=sk_build STRIPE_PUBLISHABLE_KEY=pk_build STRIPE_WEBHOOK_SECRET=whsec_build \
    python manage.py collectstatic --noinput
USER pharmacy
EXPOSE 8000
CMD ["gunicorn", "pharmacy.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
