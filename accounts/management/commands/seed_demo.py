"""Demo data for trying the portal: idempotent, prints the demo sign-ins."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts.models import Company, User

DEMO_PASSWORD = "Demo-Portal-2026!"

COMPANIES = [
    ("Nordwind Logistik GmbH", "10234", "de"),
    ("Soluciones Andinas S.L.", "20417", "es"),
]

# (username, first, last, role, extra)
PEOPLE = {
    "10234": [
        ("c10234.sm", "Sabine", "Meyer", roles.SECURITY_MANAGERS, {}),
        ("c10234.jd", "Jonas", "Dietrich", None, {}),
        ("c10234.lk", "Lena", "Krause", None, {"must_change_password": True}),
        ("c10234.tw", "Tobias", "Weber", None, {"expires_in_days": 6}),
    ],
    "20417": [
        ("c20417.mg", "María", "García", roles.SECURITY_MANAGERS, {}),
        ("c20417.cr", "Carlos", "Ruiz", None, {}),
        ("c20417.al", "Ana", "López", None, {"expires_in_days": 2}),
    ],
}
STAFF = [
    ("support.agent", "Sam", "Support", roles.SUPPORT_AGENTS, False),
    ("portal.admin", "Alex", "Admin", roles.PROVIDER_ADMINS, True),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo companies, people and data. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        now = timezone.now()
        rows = []
        for name, number, language in COMPANIES:
            company, _ = Company.objects.get_or_create(
                customer_number=number, defaults={"name": name}
            )
            for username, first, last, group, extra in PEOPLE[number]:
                user = self._person(username, first, last, company, language, group)
                if extra.get("must_change_password") and user.last_login is None:
                    user.must_change_password = True
                if "expires_in_days" in extra:
                    age = company.effective_password_max_age_days - extra["expires_in_days"]
                    user.password_changed_at = now - timedelta(days=age)
                user.save()
                rows.append(
                    (username, roles.role_label(user), company.name, user.must_change_password)
                )
        for username, first, last, group, superuser in STAFF:
            user = self._person(username, first, last, None, "en", group)
            user.is_staff = True
            user.is_superuser = superuser
            user.save()
            rows.append((username, roles.role_label(user), "Provider", False))
        self._seed_other_apps()
        authenticators = self._demo_authenticators()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Sign in at {settings.SITE_URL}/ with:")
        )
        for username, role, company, must_change in rows:
            note = "  (initial password: must be changed)" if must_change else ""
            self.stdout.write(f"  {username:<16} {role:<18} {company:<26}{note}")
        self.stdout.write(f"Password for every demo account: {DEMO_PASSWORD}")
        self.stdout.write(
            "Security Managers and provider staff need a second factor. Their demo TOTP "
            "authenticators print the current code with:"
        )
        for username, uri in authenticators:
            self.stdout.write(
                f"  {username:<16} .venv/bin/python -m mfa.authenticator totp '{uri}'"
            )

    def _person(self, username, first, last, company, language, group) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username.replace('.', '_')}@example.com",
                "email_verified": True,
                "company": company,
                "preferred_language": language,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    def _demo_authenticators(self) -> list[tuple[str, str]]:
        """A TOTP authenticator for each account that must have a strong second factor."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from mfa.services import totp_uri

        rows = []
        for user in User.objects.filter(groups__name__in=roles.ALL_GROUPS).distinct():
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(user=user, name="Demo TOTP", confirmed=True)
            rows.append((user.username, totp_uri(device)))
        return sorted(rows)

    def _seed_other_apps(self) -> None:
        """Other apps add their demo data here through their own services."""
        from tickets.services import seed_demo_tickets

        seed_demo_tickets()
