from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Answer 200 when the database answers (used by docker-compose and load balancers)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
