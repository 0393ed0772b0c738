from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings

BASE = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "x" * 64 + "production-like-secret-for-the-deploy-check",
    "ALLOWED_HOSTS": "portal.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    "SITE_URL": "https://portal.example.com",
    "DATABASE_URL": "sqlite:////tmp/portal-deploy-check.sqlite3",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_healthz_reports_each_component(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["database"] == "ok"
    assert body["cache"] == "ok"
    assert body["broker"] in ("ok", "eager")


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client):
    with mock.patch("portal.health.connection.cursor", side_effect=Exception("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content)["database"] == "down"


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_liveness_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert client.post("/healthz/live").status_code == 405


def test_celery_is_configured_for_reliable_json_tasks():
    from portal.celery import app

    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit
    assert "accounts-retention" in app.conf.beat_schedule


def test_redis_socket_timeouts_are_at_most_one_second():
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set in this run")
    options = settings.CACHES["default"]["OPTIONS"]
    assert options["socket_timeout"] <= 1
    assert options["socket_connect_timeout"] <= 1
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"] <= 1


def test_postgres_connections_are_persistent_and_health_checked():
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("not running on PostgreSQL")
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"] is True


def test_gunicorn_freezes_the_preloaded_objects_once_before_the_first_fork():
    import gc
    import runpy

    config = runpy.run_path(str(BASE / "portal" / "gunicorn.py"))
    assert "pre_fork" not in config, "freezing on every fork would keep the master's garbage"
    assert config["preload_app"] is True
    gc.unfreeze()
    try:
        config["when_ready"](server=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def _production_setting(name: str, env: dict[str, str]) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    result = _manage("shell", "-v0", "-c", code, env={**PRODUCTION_ENV, **env})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


def test_a_deployment_behind_the_proxy_can_take_the_client_address_from_x_forwarded_for():
    """Else every client has the proxy's address and the per-address limits count them all."""
    assert _production_setting("USE_X_FORWARDED_FOR", {}) == "False"
    assert _production_setting("USE_X_FORWARDED_FOR", {"USE_X_FORWARDED_FOR": "True"}) == "True"


def test_a_deployment_chooses_where_collectstatic_writes(tmp_path):
    static_root = str(tmp_path / "static")
    assert _production_setting("STATIC_ROOT", {"STATIC_ROOT": static_root}) == static_root


@pytest.mark.parametrize(
    ("use_forwarded", "expected"), [(True, "203.0.113.7"), (False, "127.0.0.1")]
)
def test_the_client_address_is_the_proxys_last_x_forwarded_for_entry_when_configured(
    rf, settings, use_forwarded, expected
):
    from accounts.services import client_ip

    settings.USE_X_FORWARDED_FOR = use_forwarded
    request = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7")
    assert client_ip(request) == expected


@pytest.mark.parametrize(
    ("forwarded", "proxies", "expected"),
    [
        ("198.51.100.1, 203.0.113.7", 2, "198.51.100.1"),  # a CDN in front of nginx
        ("203.0.113.7", 2, "127.0.0.1"),  # fewer entries than proxies: the proxy's own
        ("unknown", 1, "127.0.0.1"),  # not an address: the proxy's, not none
        ("203.0.113.7:51234", 1, "203.0.113.7"),
        ("[2001:db8::7]:443", 1, "2001:db8::7"),
        ("2001:db8::7", 1, "2001:db8::7"),
        ("", 1, "127.0.0.1"),
    ],
)
def test_the_client_address_behind_several_proxies_and_odd_entries(
    rf, settings, forwarded, proxies, expected
):
    from accounts.services import client_ip

    settings.USE_X_FORWARDED_FOR = True
    settings.FORWARDED_PROXY_COUNT = proxies
    assert client_ip(rf.get("/", HTTP_X_FORWARDED_FOR=forwarded)) == expected


def test_the_favicon_that_browsers_ask_for_on_the_admins_pages_exists(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith(".svg")
    assert client.get(response["Location"]).status_code == 200
