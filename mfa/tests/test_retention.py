from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings as django_settings
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import SecurityEvent
from mfa import retention, services
from mfa.models import PushChallenge, PushDevice, PushEnrollment, PushNonce
from mfa.tasks import purge_expired_mfa_data
from portal.tests.retention_checks import assert_constant_queries_per_batch


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def _challenge(device: PushDevice, expired_days_ago: float, **fields) -> PushChallenge:
    expires_at = days_ago(expired_days_ago)
    return PushChallenge.objects.create(
        public_id=secrets.token_urlsafe(16),
        user=device.user,
        device=device,
        attempt_digest="a" * 64,
        number=42,
        choices=[42, 17, 88],
        created_at=expires_at - timedelta(seconds=services.PUSH_CHALLENGE_SECONDS),
        expires_at=expires_at,
        **fields,
    )


def _enrollment(user, expired_days_ago: float, **fields) -> PushEnrollment:
    return PushEnrollment.objects.create(
        user=user,
        name="phone",
        token_digest=secrets.token_hex(32),
        expires_at=days_ago(expired_days_ago),
        **fields,
    )


def test_the_purge_runs_daily():
    entry = django_settings.CELERY_BEAT_SCHEDULE["mfa-retention"]
    assert entry["task"] == "mfa.tasks.purge_expired_mfa_data"
    assert entry["schedule"].hour == {3}


def test_push_challenges_go_after_their_retention_the_log_keeps_denials(
    settings, employee_a, phone
):
    settings.MFA_RETENTION_DAYS = 30
    device = phone(employee_a).device
    old = _challenge(device, 31, status=PushChallenge.Status.DENIED)
    recent = _challenge(device, 29, status=PushChallenge.Status.USED)
    pending = _challenge(device, -0.001)
    denied = SecurityEvent.objects.create(kind=SecurityEvent.Kind.PUSH_DENIED, user=employee_a)
    assert purge_expired_mfa_data.delay().get()["push challenges"] == 1
    assert set(PushChallenge.objects.all()) == {recent, pending}
    assert not PushChallenge.objects.filter(pk=old.pk).exists()
    assert PushDevice.objects.filter(pk=device.pk).exists()
    assert SecurityEvent.objects.filter(pk=denied.pk).exists()


def test_push_enrolments_go_after_their_retention_the_device_stays(settings, employee_a, phone):
    settings.MFA_RETENTION_DAYS = 30
    device = phone(employee_a).device
    used = _enrollment(employee_a, 40, used_at=days_ago(40), device=device)
    unused = _enrollment(employee_a, 31)
    recent = _enrollment(employee_a, 2)
    assert retention.purge()["push enrolments"] == 2
    assert list(PushEnrollment.objects.all()) == [recent]
    assert not PushEnrollment.objects.filter(pk__in=[used.pk, unused.pk]).exists()
    assert PushDevice.objects.filter(pk=device.pk, confirmed=True).exists()


def test_setups_never_finished_go_confirmed_authenticators_stay(settings, employee_a):
    settings.MFA_RETENTION_DAYS = 30
    old_totp = TOTPDevice.objects.create(user=employee_a, name="left halfway", confirmed=False)
    old_email = EmailDevice.objects.create(user=employee_a, name="left", confirmed=False)
    in_use = TOTPDevice.objects.create(user=employee_a, name="in use", confirmed=True)
    TOTPDevice.objects.filter(pk__in=[old_totp.pk, in_use.pk]).update(created_at=days_ago(31))
    EmailDevice.objects.filter(pk=old_email.pk).update(created_at=days_ago(31))
    started_today = EmailDevice.objects.create(user=employee_a, name="now", confirmed=False)
    deleted = retention.purge()
    assert deleted["unfinished totp setups"] == 1
    assert deleted["unfinished email setups"] == 1
    assert list(TOTPDevice.objects.all()) == [in_use]
    assert list(EmailDevice.objects.all()) == [started_today]


def test_used_nonces_go_once_the_api_refuses_their_time_anyway(employee_a, phone):
    device = phone(employee_a).device
    window = timedelta(seconds=2 * services.PUSH_CLOCK_SKEW_SECONDS)
    old = PushNonce.objects.create(device=device, nonce="o" * 16)
    PushNonce.objects.filter(pk=old.pk).update(created_at=timezone.now() - window - timedelta(1))
    fresh = PushNonce.objects.create(device=device, nonce="f" * 16)
    assert retention.purge()["push nonces"] == 1
    assert list(PushNonce.objects.all()) == [fresh]


def test_zero_keeps_challenges_enrolments_and_setups(settings, employee_a, phone):
    settings.MFA_RETENTION_DAYS = 0
    device = phone(employee_a).device
    _challenge(device, 400)
    _enrollment(employee_a, 400)
    assert set(retention.purge()) == {"push nonces"}
    assert PushChallenge.objects.count() == PushEnrollment.objects.count() == 1


def test_more_challenges_than_one_batch_all_go(employee_a, phone):
    device = phone(employee_a).device
    for _ in range(5):
        _challenge(device, 60)
    assert retention.purge(batch_size=2)["push challenges"] == 5
    assert not PushChallenge.objects.exists()


def test_each_kind_costs_the_same_queries_per_batch(employee_a, phone):
    device = phone(employee_a).device
    before = days_ago(30)
    assert_constant_queries_per_batch(
        lambda: _challenge(device, 31), lambda: retention.past_push_challenges(before)
    )
    assert_constant_queries_per_batch(
        lambda: _enrollment(employee_a, 31), lambda: retention.past_push_enrollments(before)
    )

    def abandoned_totp():
        device = TOTPDevice.objects.create(user=employee_a, name="halfway", confirmed=False)
        TOTPDevice.objects.filter(pk=device.pk).update(created_at=days_ago(31))

    assert_constant_queries_per_batch(
        abandoned_totp, lambda: retention.abandoned_setups(TOTPDevice, before)
    )
