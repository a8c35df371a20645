"""Leme's URLs and, first, the smallest Django view: ``/bench/floor/`` answers a constant "ok" through the whole
middleware stack. Only ``bench/floor_settings.py`` (the answer benchmark's server) routes here."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler500
from config.urls import urlpatterns as leme_urlpatterns

FLOOR_PATH = "/bench/floor/"


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path(FLOOR_PATH.strip("/") + "/", floor), *leme_urlpatterns]

__all__ = ["handler500", "urlpatterns"]
