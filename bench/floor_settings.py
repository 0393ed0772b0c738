"""The production settings with bench/floors.py's views added: only for the floors' own server."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
