"""Our authenticator types as django-two-factor-auth methods (its registry picks the token
form for the sign-in step and the texts of its template filters)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from two_factor.plugins.registry import MethodBase, registry

from .models import PushDevice


def mask_email(address: str) -> str:
    local, _sep, domain = (address or "").partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


class TotpMethod(MethodBase):
    code = "totp"
    verbose_name = _("Authenticator app (TOTP)")

    def get_devices(self, user):
        return TOTPDevice.objects.filter(user=user, confirmed=True)

    def recognize_device(self, device):
        return isinstance(device, TOTPDevice)

    def get_token_form_class(self):
        from .forms import SecondFactorTokenForm

        return SecondFactorTokenForm

    def get_action(self, device):
        return _("Code from the app “%(name)s”") % {"name": device.name}

    def get_verbose_action(self, device):
        return _(
            "Enter the temporary 6-digit code from your authenticator application “%(name)s”."
        ) % {"name": device.name}


class EmailMethod(MethodBase):
    code = "email"
    verbose_name = _("Email")

    def get_devices(self, user):
        return EmailDevice.objects.filter(user=user, confirmed=True)

    def recognize_device(self, device):
        return isinstance(device, EmailDevice)

    def get_token_form_class(self):
        from .forms import SecondFactorTokenForm

        return SecondFactorTokenForm

    def get_action(self, device):
        return _("Email a code to %(address)s") % {
            "address": mask_email(device.email or device.user.email)
        }

    def get_verbose_action(self, device):
        return _("Enter the 6-digit code we emailed to %(address)s. It is valid for 5 minutes.") % {
            "address": mask_email(device.email or device.user.email)
        }


class PushMethod(MethodBase):
    code = "push"
    verbose_name = _("Smartphone push")

    def get_devices(self, user):
        return PushDevice.objects.filter(user=user, confirmed=True)

    def recognize_device(self, device):
        return isinstance(device, PushDevice)

    def get_token_form_class(self):
        from .forms import PushApprovalForm

        return PushApprovalForm

    def get_action(self, device):
        return _("Approve on “%(name)s”") % {"name": device.name}

    def get_verbose_action(self, device):
        return _("Open your authenticator app on “%(name)s” and choose the number shown here.") % {
            "name": device.name
        }


def register_methods() -> None:
    registry.unregister("generator")
    registry.unregister("email")
    for method in (TotpMethod(), EmailMethod(), PushMethod()):
        registry.register(method)
