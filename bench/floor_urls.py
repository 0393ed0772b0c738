"""The portal's URLs with the floors of bench/floors.py in front (bench.floor_settings only)."""

from bench.floors import urlpatterns as floor_urlpatterns
from portal.urls import *  # noqa: F403 (the error handlers too)
from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = floor_urlpatterns + portal_urlpatterns
