"""Settings for the portal, read from the environment (see README, "Configuration").

The embedded default (no variables set) runs on a newcomer's laptop: SQLite in var/, Celery
tasks eagerly in-process, local-memory cache, emails on the console and in var/mail/.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
# Under pytest, tasks always run inline so tests see their effects (emails in mailoutbox).
RUNNING_TESTS = "pytest" in sys.modules


def _secret_key() -> str:
    """In development a key is generated once and kept in var/; production must set one."""
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is False.")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The canonical base URL of every emailed link; never derived from the request's Host header.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Cloud Service Portal")

INSTALLED_APPS = [
    "mfa.admin_apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.forms",
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_email",
    "two_factor",
    "two_factor.plugins.email",
    "csp",
    "phonenumber_field",
    "accounts",
    "mfa",
    "tickets",
    "portal",  # for the management commands that span the apps (purge_expired)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.ResolvedUserMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "accounts.middleware.RequiredActionsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.errors.MethodNotAllowedPage",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]
FORM_RENDERER = "portal.forms.PortalFormRenderer"

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # The embedded default serves several requests at once too. IMMEDIATE makes a transaction
    # take the write lock when it begins, so a second writer waits (up to the timeout) instead of
    # failing with "database is locked" when both read first; WAL lets pages read meanwhile.
    # portal.sqlite folds case beyond ASCII, as PostgreSQL does ("Müller" = "MÜLLER").
    DATABASES["default"]["ENGINE"] = "portal.sqlite"
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery --------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.PortalRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered layout fragments that depend only on their key (language, role, page): kept in each
# process, never shared, so the web tier stays stateless and a deploy starts them afresh.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "portal-fragments",
    "TIMEOUT": None,
    "OPTIONS": {"MAX_ENTRIES": 5000},
}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# No results are kept, so nothing expires: without this Celery adds a daily
# celery.backend_cleanup job to beat that has nothing to clean.
CELERY_RESULT_EXPIRES = None
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL or RUNNING_TESTS
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {}

# --- Email ---------------------------------------------------------------------------------
MAIL_DIR = VAR_DIR / "mail"
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "portal.mail.ConsoleAndFileEmailBackend"
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Cloud Service Portal <portal@example.com>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A hanging SMTP server must not hold a Celery worker until the task's time limit: a timeout
# is an OSError, which deliver_email retries with backoff.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Authentication ------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_HASHERS = [
    "accounts.hashers.PortalArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=12)
# The password policy, in one place (accounts/password_policy.py); no composition rules.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.password_policy.MinimumLengthValidator"},
    {
        "NAME": "accounts.password_policy.MaximumLengthValidator",
        "OPTIONS": {"max_length": 128},
    },
    {"NAME": "accounts.password_policy.CommonPasswordValidator"},
    {"NAME": "accounts.password_policy.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.password_policy.PersonalInformationValidator"},
]
PASSWORD_RESET_TIMEOUT = 3600
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=20)
LOGIN_IP_FAILURE_WINDOW = env.int("LOGIN_IP_FAILURE_WINDOW", default=600)
# Forgotten password or user name, "check and unblock": requests per IP address and window.
RECOVERY_IP_LIMIT = env.int("RECOVERY_IP_LIMIT", default=30)
RECOVERY_IP_WINDOW = env.int("RECOVERY_IP_WINDOW", default=3600)
# Registrations (each emails an address the visitor typed) per IP address and window.
REGISTRATION_IP_LIMIT = env.int("REGISTRATION_IP_LIMIT", default=10)
REGISTRATION_IP_WINDOW = env.int("REGISTRATION_IP_WINDOW", default=3600)
REGISTRATION_OPEN = env.bool("REGISTRATION_OPEN", default=True)
# Seconds a registration whose task was lost is kept, with its password hash, for the hourly
# job to do it late; older ones it deletes undone (accounts.services.process_pending_registrations).
PENDING_REGISTRATION_MAX_AGE = env.int("PENDING_REGISTRATION_MAX_AGE", default=24 * 3600)
CELERY_BEAT_SCHEDULE["process-pending-registrations"] = {
    "task": "accounts.tasks.process_pending_registrations",
    "schedule": crontab(minute=29),
}
TERMS_VERSION = "2026-01"
TWO_FACTOR_LOGIN_TIMEOUT = 600
TWO_FACTOR_REMEMBER_COOKIE_AGE = None
OTP_EMAIL_TOKEN_VALIDITY = 300
# Nobody reads a user's TOTP secret or QR code in the admin (the user enrols it themselves);
# django-otp's views then also refuse before looking a device up.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- Sessions ------------------------------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=2 * 3600)
SESSION_ABSOLUTE_TIMEOUT = env.int("SESSION_ABSOLUTE_TIMEOUT", default=12 * 3600)
# The server ends a session at the absolute limit and the sign-in page says why; the cookie
# lasts an hour longer so that the first request after the limit still carries it.
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT + 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
PHONENUMBER_DEFAULT_REGION = None
# How a phone number prints in pages, emails and forms (+49 30 1234567); stored as E.164.
PHONENUMBER_DEFAULT_FORMAT = "INTERNATIONAL"

# --- Static and media ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where collectstatic puts the hashed files that WhiteNoise serves when DEBUG is False.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
WHITENOISE_USE_FINDERS = DEBUG
if DEBUG:
    STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise expects it; collectstatic fills it in production
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

# --- Security ------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the proxy of README "Production", REMOTE_ADDR is the proxy's address for every client:
# the per-address throttles would count all clients together and the security log would show
# only the proxy. With this on, accounts.services.client_ip takes the X-Forwarded-For entry
# that the outermost of FORWARDED_PROXY_COUNT proxies appended (a CDN in front of nginx: 2).
# Only behind such proxies, with gunicorn unreachable otherwise: clients can write the header.
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)
FORWARDED_PROXY_COUNT = env.int("FORWARDED_PROXY_COUNT", default=1)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- Logging: everything to stdout ---------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"

# --- Accounts II: password expiry reminders, re-authentication, sessions --------------------
# Days before expiry at which a reminder is emailed (one email per threshold and expiry date).
PASSWORD_EXPIRY_REMINDER_DAYS = env.list(
    "PASSWORD_EXPIRY_REMINDER_DAYS", cast=int, default=[14, 7, 3, 1]
)
PASSWORD_REMINDER_BATCH_SIZE = 500
# Security pages ask for the password again when the last authentication is older than this.
REAUTHENTICATION_MAX_AGE = 300
# The "you will be signed out soon" notice appears this many seconds before the idle limit.
SESSION_IDLE_WARNING = env.int("SESSION_IDLE_WARNING", default=300)
EMAIL_CHANGE_TIMEOUT = 24 * 3600
SIGN_IN_REPORT_TIMEOUT = 7 * 24 * 3600
BROWSER_COOKIE_NAME = "portal_browser"
# After MessageMiddleware: the sign-in page says why the session ended.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "accounts.middleware.SessionActivityMiddleware",
)
if REDIS_URL:
    # Revocation does not depend on the store: SessionActivityMiddleware checks UserSession.
    SESSION_ENGINE = env.str("SESSION_ENGINE", default="django.contrib.sessions.backends.cache")
CELERY_BEAT_SCHEDULE["send-password-reminders"] = {
    "task": "accounts.tasks.send_password_reminders",
    "schedule": crontab(hour=6, minute=5),
}
# --- Tickets -------------------------------------------------------------------------------
# Service levels per priority, in hours: first response and resolution targets.
TICKET_SERVICE_LEVELS = {
    "critical": {"first_response": 1, "resolution": 8},
    "high": {"first_response": 4, "resolution": 24},
    "medium": {"first_response": 8, "resolution": 72},
    "low": {"first_response": 24, "resolution": 168},
}
TICKET_REOPEN_DAYS = env.int("TICKET_REOPEN_DAYS", default=14)
TICKET_WAITING_REMINDER_DAYS = env.int("TICKET_WAITING_REMINDER_DAYS", default=3)
TICKET_WAITING_AUTO_RESOLVE_DAYS = env.int("TICKET_WAITING_AUTO_RESOLVE_DAYS", default=7)
TICKET_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
TICKET_ATTACHMENTS_PER_MESSAGE = 5
TICKET_HELP_REQUEST_LIMIT = env.int("TICKET_HELP_REQUEST_LIMIT", default=5)
TICKET_HELP_REQUEST_WINDOW = 3600
# Seconds in which the support agents are emailed at most once per ticket about customer
# replies while nobody is assigned; a reply at the window's end or later is emailed again.
TICKET_REPLY_NOTICE_WINDOW = env.int("TICKET_REPLY_NOTICE_WINDOW", default=15 * 60)
CELERY_BEAT_SCHEDULE["tickets-waiting-for-customer"] = {
    "task": "tickets.tasks.process_waiting_tickets",
    "schedule": crontab(minute=40),
}
# Replies the window held back are emailed within a minute of its end, by a task every
# minute (tickets.services.announce_held_back_replies says why not a countdown per window). A
# copy still queued when the next one is sent has nothing left to do: it expires.
CELERY_BEAT_SCHEDULE["tickets-held-back-replies"] = {
    "task": "tickets.tasks.announce_held_back_replies",
    "schedule": crontab(),
    "options": {"expires": 50},
}

# The provider's order desk: receives the requests to authorize a Security Manager.
ORDER_EMAIL = env.str("ORDER_EMAIL", default="order@example.com")

# --- Retention: what each app's daily purge deletes, and when (README "Retention") ---------
# Days after which a record is deleted; 0 keeps it forever.
# The security log (the account's activity log and the company log): two full years, so that
# a yearly review or audit always finds the whole previous year, and an intrusion found late
# can still be traced back.
SECURITY_EVENT_RETENTION_DAYS = env.int("SECURITY_EVENT_RETENTION_DAYS", default=730)
# Sign-in records (sessions) after sign-in: the browser cookie that recognises a browser lives
# 400 days, so older records recognise no browser any more. Each user's latest recognised
# browser is kept anyway, or their next sign-in after a long break would alert nobody.
SESSION_HISTORY_RETENTION_DAYS = env.int("SESSION_HISTORY_RETENTION_DAYS", default=400)
# Requests to change the email address after they were made (their link works 24 hours).
EMAIL_CHANGE_RETENTION_DAYS = env.int("EMAIL_CHANGE_RETENTION_DAYS", default=30)
# Password expiry reminders after the expiry they announced (only future ones are looked at).
PASSWORD_REMINDER_RETENTION_DAYS = env.int("PASSWORD_REMINDER_RETENTION_DAYS", default=30)
# Decided requests to authorize a Security Manager, after the decision: the request is the
# proof of who asked, kept as long as the log's entry of the role it granted.
MANAGER_REQUEST_RETENTION_DAYS = env.int("MANAGER_REQUEST_RETENTION_DAYS", default=730)
# Self-registered accounts never verified nor signed in to (accounts.retention says which),
# after registration: their verification link died after 24 hours.
UNVERIFIED_ACCOUNT_RETENTION_DAYS = env.int("UNVERIFIED_ACCOUNT_RETENTION_DAYS", default=30)
# Push sign-in requests and enrolment codes after they expired, and authenticator setups
# never finished, after they began.
MFA_RETENTION_DAYS = env.int("MFA_RETENTION_DAYS", default=30)
# Resolved or closed tickets after their last change, with conversation, files and timeline.
# Kept by default: the incident history is the customer's record and ours.
TICKET_RETENTION_DAYS = env.int("TICKET_RETENTION_DAYS", default=0)
RETENTION_BATCH_SIZE = 1000
# Seconds a daily retention task begins new batches for before it queues itself again for the
# rest (portal.retention.purge_within_budget): half the soft time limit, so a slow last batch
# still ends before it.
RETENTION_TIME_BUDGET = CELERY_TASK_SOFT_TIME_LIMIT // 2
CELERY_BEAT_SCHEDULE.update(
    {
        "accounts-retention": {
            "task": "accounts.tasks.purge_expired_accounts_data",
            "schedule": crontab(hour=3, minute=17),
        },
        "mfa-retention": {
            "task": "mfa.tasks.purge_expired_mfa_data",
            "schedule": crontab(hour=3, minute=27),
        },
        "tickets-retention": {
            "task": "tickets.tasks.purge_expired_tickets",
            "schedule": crontab(hour=3, minute=37),
        },
    }
)
