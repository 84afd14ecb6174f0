"""The product's URLs plus the two ceiling endpoints of figure 2 (bench settings only).

* ``GET /bench/ceiling/no-db/``: a DRF view that touches no database: what the framework,
  the middleware and the server cost by themselves.
* ``POST /bench/ceiling/sql-write/``: the rows a create writes, in raw SQL and one transaction
  (``bench.raw_write.write_order``). Its event is an ``OrderCreated`` and the summary exists, so
  the subscriptions react to these orders as to the API's: the Celery worker has the same work
  during both windows.
"""

from __future__ import annotations

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.raw_write import write_order
from core.urls import handler404, handler500
from core.urls import urlpatterns as product_urlpatterns


class NoDatabaseView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class RawSqlWriteView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def post(self, request: Request) -> Response:
        order_id, total = write_order(request.data)
        return Response({"id": str(order_id), "total": str(total)}, status=201)


urlpatterns = [
    path("bench/ceiling/no-db/", NoDatabaseView.as_view(), name="bench-ceiling-no-db"),
    path("bench/ceiling/sql-write/", RawSqlWriteView.as_view(), name="bench-ceiling-sql-write"),
    *product_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
