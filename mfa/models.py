"""Authenticators beyond django-otp's own (push devices, hashed backup codes) and the per-user
MFA settings (default authenticator, trust epoch)."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin


def digest(value: str) -> str:
    """Keyed hash of a secret (token, backup code); lookups by digest never store the secret."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


class MfaSettings(models.Model):
    """Which authenticator is offered first, and an epoch that invalidates trusted browsers."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_settings"
    )
    default_device = models.CharField(_("default authenticator"), max_length=100, blank=True)
    trust_epoch = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("two-factor settings")
        verbose_name_plural = _("two-factor settings")

    def __str__(self) -> str:
        return f"MFA settings of {self.user_id}"


class PushDevice(TimestampMixin, Device):
    """A smartphone app holding a private key; it approves sign-ins by signed requests."""

    class Algorithm(models.TextChoices):
        ED25519 = "ed25519", "Ed25519"
        ECDSA_P256 = "ecdsa-p256", "ECDSA P-256"

    key_id = models.CharField(max_length=64, unique=True)
    public_key = models.TextField()
    algorithm = models.CharField(max_length=16, choices=Algorithm.choices)

    class Meta(Device.Meta):
        verbose_name = _("push device")

    def verify_token(self, token) -> bool:
        # Push devices never accept typed codes; approval goes through PushChallenge.
        return False


class PushEnrollment(models.Model):
    """A one-time enrollment token shown as a QR code; dies on use or after 10 minutes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=64)
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    device = models.ForeignKey(PushDevice, null=True, blank=True, on_delete=models.CASCADE)
    # The browser that showed the code: the phone is added there, and its app's own request
    # names no browser (the reference app's says "Python-urllib"). The database's default
    # lets processes still running the older code create enrolments while the migration runs.
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="", db_default="")

    def __str__(self) -> str:
        return f"push enrollment {self.pk}"


class PushChallengeQuerySet(models.QuerySet):
    def pending(self, now=None):
        return self.filter(
            status=PushChallenge.Status.PENDING, expires_at__gt=now or timezone.now()
        )


class PushChallenge(models.Model):
    """One push sign-in request, bound to one sign-in attempt (a browser's half session)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        DENIED = "denied", _("denied")
        USED = "used", _("used")

    public_id = models.CharField(max_length=32, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(PushDevice, on_delete=models.CASCADE, related_name="challenges")
    attempt_digest = models.CharField(max_length=64, db_index=True)
    number = models.PositiveSmallIntegerField()
    choices = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = PushChallengeQuerySet.as_manager()

    def __str__(self) -> str:
        return f"push challenge {self.public_id} ({self.status})"


class PushNonce(models.Model):
    """Nonces a device has used; the unique constraint refuses a replayed request."""

    device = models.ForeignKey(PushDevice, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "nonce"], name="push_nonce_unique"),
        ]

    def __str__(self) -> str:
        return self.nonce


class BackupCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """The user's set of backup codes; each code is stored only as a keyed hash."""

    class Meta(Device.Meta):
        verbose_name = _("backup codes")

    def get_throttle_factor(self) -> int:
        return 1

    def remaining(self) -> int:
        return self.codes.filter(used_at=None).count()

    def use_code(self, token) -> bool:
        """Mark a matching unused code as used; the conditional update makes it single use."""
        normalized = "".join(str(token).lower().split()).replace("-", "")
        return bool(
            BackupCode.objects.filter(device=self, digest=digest(normalized), used_at=None).update(
                used_at=timezone.now()
            )
        )

    def verify_token(self, token) -> bool:
        return self.use_code(token)


class BackupCode(models.Model):
    device = models.ForeignKey(BackupCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"backup code {self.pk}"
