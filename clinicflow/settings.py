"""clinicflow settings: one module, configured by environment variables.

Everything has a zero-config default (SQLite under the data folder). Bad values fail loudly at start-up
rather than silently running with a surprise.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def envbool(name: str, default: str = "False") -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def sqlite_database(path: Path | str) -> dict:
    """The one SQLite configuration, for the default file and for DATABASE_URL=sqlite:///… alike."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # WAL lets the worker write while web requests read; IMMEDIATE avoids lock-upgrade deadlocks.
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                    "transaction_mode": "IMMEDIATE", "timeout": 20},
    }


def envnetworks(name: str) -> list[str]:
    """A comma-separated list of IP addresses or networks (CIDR); a typo stops the start."""
    import ipaddress

    values = [value.strip() for value in os.getenv(name, "").split(",") if value.strip()]
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must list IP addresses or networks, not {value!r}") from None
    return values


def database_from_url(url: str, data_dir: Path) -> dict:
    """Turn DATABASE_URL (postgres://user:pass@host:port/name or sqlite:///path) into Django's dict."""
    if not url:
        return sqlite_database(data_dir / "clinicflow.sqlite3")
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return sqlite_database(unquote(parts.path[1:]) or ":memory:")
    if parts.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL scheme must be postgres:// or sqlite://, not {parts.scheme!r}")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "clinicflow",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": dict(parse_qsl(parts.query)),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def data_dir_prepare(path: Path) -> Path:
    """The data folder holds the database and the secret key: only its owner may enter it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_mode & 0o077 and info.st_uid == getattr(os, "getuid", lambda: info.st_uid)():
        path.chmod(0o700)  # an installation from before this rule, or a folder made by hand
    return path


DATA_DIR = Path(os.getenv("CLINICFLOW_DATA_DIR", Path.cwd() / "clinicflow-data")).resolve()
if not os.getenv("CLINICFLOW_SECRET_KEY") or not os.getenv("DATABASE_URL"):
    # Only when something is kept there: a PostgreSQL install with its key set may run on a read-only disk.
    data_dir_prepare(DATA_DIR)
DEBUG = envbool("CLINICFLOW_DEBUG")

SECRET_KEY = os.getenv("CLINICFLOW_SECRET_KEY", "")
if not SECRET_KEY:
    # Embedded default: a per-installation key kept in the data folder, never a hard-coded one.
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        SECRET_KEY = key_file.read_text().strip()
    else:
        import secrets

        SECRET_KEY = secrets.token_urlsafe(50)
        key_file.write_text(SECRET_KEY)
        key_file.chmod(0o600)

ALLOWED_HOSTS = [h.strip() for h in os.getenv("CLINICFLOW_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")]
CSRF_TRUSTED_ORIGINS = [o for o in os.getenv("CLINICFLOW_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_include_bootstrap",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "clinicflow.core",
    "clinicflow.accounts",
    "clinicflow.clinic",
    "clinicflow.patients",
    "clinicflow.compliance",
    "clinicflow.automation",
    "clinicflow.tasks",
    "clinicflow.inbox",
    "clinicflow.channels",
    "clinicflow.messaging",
    "clinicflow.scheduling",
    "clinicflow.funnel",
    "clinicflow.mis",
    "clinicflow.pages",
    "clinicflow.reports",
    "clinicflow.imports",
    "clinicflow.robots",
    "clinicflow.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static assets are answered here and skip everything below: they may be cached, pages may not.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinicflow.core.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The website widget's cross-origin calls to the public API, from the origins the clinic allows.
    "clinicflow.core.middleware.WidgetCorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the staff member's own language wins over the browser's.
    "clinicflow.accounts.middleware.UserLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): has this session entered its code?
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinicflow.compliance.middleware.AccessLogMiddleware",
    "clinicflow.core.middleware.IdleTimeoutMiddleware",
    "clinicflow.core.middleware.HostileInputMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out log-in into our lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinicflow.urls"
WSGI_APPLICATION = "clinicflow.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinicflow.pages.context_processors.workspace",
                "clinicflow.inbox.context_processors.unread_inquiries",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(os.getenv("DATABASE_URL", ""), DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes comes first so that a locked-out user name is refused before its password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "clinicflow.accounts.backends.RolePermissionBackend",  # Settings permissions that follow from the role
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600

# --- security -----------------------------------------------------------------------------------
# Production behind a TLS-terminating proxy. Off by default: the embedded http://127.0.0.1 install
# must keep working over plain http (secure cookies would never come back and nobody could log in).
CLINICFLOW_HTTPS = envbool("CLINICFLOW_HTTPS")
# CLINICFLOW_SECURE_COOKIES is the older, narrower switch; still honoured (cookies only).
SESSION_COOKIE_SECURE = CLINICFLOW_HTTPS or envbool("CLINICFLOW_SECURE_COOKIES")
CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
if CLINICFLOW_HTTPS:
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    # Not includeSubDomains/preload: the clinic's other sites on sibling subdomains are not ours to force.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    SECURE_SSL_REDIRECT = True
    # The proxy terminates TLS and says so in this header (it must set it, overwriting the client's).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health probes of a load balancer or of `clinicflow run` itself speak plain http to the app.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Log-in lockout (django-axes, state in the database so every process sees it): after this many wrong
# passwords for one user name from one address, that pair is refused for the cool-off time.
CLINICFLOW_LOGIN_FAILURE_LIMIT = envint("CLINICFLOW_LOGIN_FAILURE_LIMIT", 5)
CLINICFLOW_LOGIN_COOLOFF_MINUTES = envint("CLINICFLOW_LOGIN_COOLOFF_MINUTES", 15)
AXES_FAILURE_LIMIT = CLINICFLOW_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=CLINICFLOW_LOGIN_COOLOFF_MINUTES)
# The pair, not the address alone: receptionists behind one clinic NAT must not lock each other out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "clinicflow.core.ratelimit.client_ip"
AXES_LOCKOUT_CALLABLE = "clinicflow.accounts.views.login_locked_out"
AXES_RESET_ON_SUCCESS = True
# "Try again in 15 minutes" stays true: more tries during the lock do not push it further.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Successful log-ins are not needed for the lockout; a table of addresses with no retention rule is.
AXES_DISABLE_ACCESS_LOG = True

# Content-Security-Policy on every answer: scripts and styles only from us or carrying this response's
# nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
    },
}

# A staff session with no activity for this long is logged out; the live queue's polling does not count.
CLINICFLOW_IDLE_MINUTES = envint("CLINICFLOW_IDLE_MINUTES", 30)
# Longest patient search on the pages, in characters.
CLINICFLOW_SEARCH_MAX_LENGTH = 200

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"  # stored in UTC; shown in each branch's own zone
USE_TZ = True

STATIC_URL = "/static/"
# Set for `collectstatic` behind a reverse proxy; unset, assets are served from the installed packages.
STATIC_ROOT = os.getenv("CLINICFLOW_STATIC_ROOT") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the installed packages' static folders: no collectstatic step for the embedded run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("CLINICFLOW_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"},
                # httpx logs every request's URL at INFO, and a search URL may carry a phone number.
                "httpx": {"level": "WARNING"}},
}

# --- clinicflow ---------------------------------------------------------------------------------
# Region used to read phone numbers written without a country code ("8 (916) 123-45-67").
CLINICFLOW_PHONE_REGION = os.getenv("CLINICFLOW_PHONE_REGION", "RU")
# First response target, in working minutes of the inquiry's branch.
CLINICFLOW_RESPONSE_TARGET_MINUTES = envint("CLINICFLOW_RESPONSE_TARGET_MINUTES", 5)
# Public endpoint: at most this many inquiries per client IP per minute.
CLINICFLOW_PUBLIC_RATE_LIMIT = envint("CLINICFLOW_PUBLIC_RATE_LIMIT", 10)
# How long a process keeps its copy of the clinic settings and branch calendars (clinicflow/clinic/cache.py).
CLINICFLOW_CLINIC_CACHE_SECONDS = envint("CLINICFLOW_CLINIC_CACHE_SECONDS", 30)
# The website widget (docs/integration.md): the sites allowed to embed it (their origins, e.g.
# "https://clinic.example"; the public API answers their browsers' cross-origin requests), and the consent
# text it shows (its version is stored with every consent given through it).
CLINICFLOW_WIDGET_ORIGINS = [o.strip().rstrip("/") for o in os.getenv("CLINICFLOW_WIDGET_ORIGINS", "").split(",")
                             if o.strip()]
CLINICFLOW_CONSENT_TEXT_VERSION = os.getenv("CLINICFLOW_CONSENT_TEXT_VERSION", "1")
CLINICFLOW_PRIVACY_POLICY_URL = os.getenv("CLINICFLOW_PRIVACY_POLICY_URL", "")
# When set, the MIS owns visit outcomes: people may not mark appointments completed by hand.
CLINICFLOW_MIS_BASE_URL = os.getenv("CLINICFLOW_MIS_BASE_URL", "")
# Our credentials at the MIS: a bearer token, or else a user name and password (basic auth).
CLINICFLOW_MIS_TOKEN = os.getenv("CLINICFLOW_MIS_TOKEN", "")
CLINICFLOW_MIS_USERNAME = os.getenv("CLINICFLOW_MIS_USERNAME", "")
CLINICFLOW_MIS_PASSWORD = os.getenv("CLINICFLOW_MIS_PASSWORD", "")
# How long one request to the MIS may take before it counts as the MIS being down (and is retried later).
CLINICFLOW_MIS_TIMEOUT_SECONDS = envint("CLINICFLOW_MIS_TIMEOUT_SECONDS", 10)
# The bearer token the MIS sends to /hooks/mis/fhir; unset, the hook answers 404.
CLINICFLOW_MIS_WEBHOOK_TOKEN = os.getenv("CLINICFLOW_MIS_WEBHOOK_TOKEN", "")
# The worker reconciles with the MIS this often (reference data, statuses, bookings it never got).
CLINICFLOW_MIS_SYNC_MINUTES = envint("CLINICFLOW_MIS_SYNC_MINUTES", 5)
# Free slots read from the MIS are reused this long (the booking screen asks on every click).
CLINICFLOW_MIS_SLOT_CACHE_SECONDS = envint("CLINICFLOW_MIS_SLOT_CACHE_SECONDS", 30)
# Slot length when no service is chosen (a service's own duration wins).
CLINICFLOW_DEFAULT_SLOT_MINUTES = envint("CLINICFLOW_DEFAULT_SLOT_MINUTES", 30)
# Public slots and bookings: at most this many requests per client IP per minute.
CLINICFLOW_PUBLIC_SLOTS_RATE_LIMIT = envint("CLINICFLOW_PUBLIC_SLOTS_RATE_LIMIT", 60)
# Worker: how long a claimed job is leased before another worker may reclaim it.
CLINICFLOW_JOB_LEASE_SECONDS = envint("CLINICFLOW_JOB_LEASE_SECONDS", 300)
# Finished jobs and their attempts are deleted after this many days (0 keeps them).
CLINICFLOW_JOB_RETENTION_DAYS = envint("CLINICFLOW_JOB_RETENTION_DAYS", 30)
# PostgreSQL: a job planned due now wakes idle workers at once (LISTEN/NOTIFY) instead of at their next poll.
CLINICFLOW_JOB_NOTIFY = envbool("CLINICFLOW_JOB_NOTIFY", "true")
# PostgreSQL: jobs a worker claims at once (SELECT ... FOR UPDATE SKIP LOCKED); 1 claims one at a time.
CLINICFLOW_JOB_CLAIM_BATCH = envint("CLINICFLOW_JOB_CLAIM_BATCH", 10)
# PostgreSQL: jobs of a claimed batch one worker runs at once, each thread with its own connection (sending
# messages mostly waits for the provider's answer). 1: one after the other, as on SQLite.
CLINICFLOW_JOB_THREADS = envint("CLINICFLOW_JOB_THREADS", 1)

# The address the outside world calls this server by (https://crm.example.clinic), when a proxy in front
# rewrites it: providers that sign the URL they called (Twilio) are checked against it. Empty: the request's own.
CLINICFLOW_PUBLIC_URL = os.getenv("CLINICFLOW_PUBLIC_URL", "").rstrip("/")

# WhatsApp Business Cloud API (docs/integration.md#whatsapp). On when the app secret is set.
CLINICFLOW_WHATSAPP_APP_SECRET = os.getenv("CLINICFLOW_WHATSAPP_APP_SECRET", "")
CLINICFLOW_WHATSAPP_VERIFY_TOKEN = os.getenv("CLINICFLOW_WHATSAPP_VERIFY_TOKEN", "")
CLINICFLOW_WHATSAPP_TOKEN = os.getenv("CLINICFLOW_WHATSAPP_TOKEN", "")
CLINICFLOW_WHATSAPP_PHONE_NUMBER_ID = os.getenv("CLINICFLOW_WHATSAPP_PHONE_NUMBER_ID", "")
CLINICFLOW_WHATSAPP_API_BASE = os.getenv("CLINICFLOW_WHATSAPP_API_BASE", "https://graph.facebook.com/v21.0")
# SMS by Twilio (docs/integration.md#sms-twilio). On when the auth token is set. FROM: a number or an MG... service.
CLINICFLOW_TWILIO_ACCOUNT_SID = os.getenv("CLINICFLOW_TWILIO_ACCOUNT_SID", "")
CLINICFLOW_TWILIO_AUTH_TOKEN = os.getenv("CLINICFLOW_TWILIO_AUTH_TOKEN", "")
CLINICFLOW_TWILIO_FROM = os.getenv("CLINICFLOW_TWILIO_FROM", "")
CLINICFLOW_TWILIO_API_BASE = os.getenv("CLINICFLOW_TWILIO_API_BASE", "https://api.twilio.com")
# SMS by SMS.ru (docs/integration.md#sms-smsru). Its callbacks are unsigned: the secret in their URL is the check.
CLINICFLOW_SMSRU_API_ID = os.getenv("CLINICFLOW_SMSRU_API_ID", "")
CLINICFLOW_SMSRU_CALLBACK_SECRET = os.getenv("CLINICFLOW_SMSRU_CALLBACK_SECRET", "")
CLINICFLOW_SMSRU_FROM = os.getenv("CLINICFLOW_SMSRU_FROM", "")  # an approved sender name; empty: SMS.ru's default
CLINICFLOW_SMSRU_API_BASE = os.getenv("CLINICFLOW_SMSRU_API_BASE", "https://sms.ru")
# Telephony. Zadarma: the API key and secret (the secret signs its call notifications; without it the
# webhook /hooks/telephony/zadarma answers 404) and its API address (click-to-call, later).
CLINICFLOW_ZADARMA_KEY = os.getenv("CLINICFLOW_ZADARMA_KEY", "")
CLINICFLOW_ZADARMA_SECRET = os.getenv("CLINICFLOW_ZADARMA_SECRET", "")
CLINICFLOW_ZADARMA_API_BASE = os.getenv("CLINICFLOW_ZADARMA_API_BASE", "https://api.zadarma.com")
# Any other PBX: the shared secret of the generic JSON call webhook /hooks/telephony/generic.
CLINICFLOW_TELEPHONY_SECRET = os.getenv("CLINICFLOW_TELEPHONY_SECRET", "")
# Our mail server's name in Authentication-Results (e.g. "mx.clinic.example"): only its DMARC verdict makes an
# e-mail's From count as the patient's own address. Empty: the topmost Authentication-Results header counts.
CLINICFLOW_IMAP_AUTHSERV_ID = os.getenv("CLINICFLOW_IMAP_AUTHSERV_ID", "")
# E-mail in: an IMAP mailbox polled every CLINICFLOW_IMAP_POLL_SECONDS (off without a host).
CLINICFLOW_IMAP_HOST = os.getenv("CLINICFLOW_IMAP_HOST", "")
CLINICFLOW_IMAP_PORT = envint("CLINICFLOW_IMAP_PORT", 993)
CLINICFLOW_IMAP_SSL = envbool("CLINICFLOW_IMAP_SSL", "True")
CLINICFLOW_IMAP_USER = os.getenv("CLINICFLOW_IMAP_USER", "")
CLINICFLOW_IMAP_PASSWORD = os.getenv("CLINICFLOW_IMAP_PASSWORD", "")
CLINICFLOW_IMAP_FOLDER = os.getenv("CLINICFLOW_IMAP_FOLDER", "INBOX")
CLINICFLOW_IMAP_POLL_SECONDS = envint("CLINICFLOW_IMAP_POLL_SECONDS", 60)
# E-mail out (replies): Django's SMTP settings; the From address of replies.
EMAIL_HOST = os.getenv("CLINICFLOW_SMTP_HOST", "localhost")
EMAIL_PORT = envint("CLINICFLOW_SMTP_PORT", 587)
EMAIL_HOST_USER = os.getenv("CLINICFLOW_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("CLINICFLOW_SMTP_PASSWORD", "")
EMAIL_USE_SSL = envbool("CLINICFLOW_SMTP_SSL", "False")
EMAIL_USE_TLS = envbool("CLINICFLOW_SMTP_STARTTLS", "False" if EMAIL_USE_SSL else "True")
EMAIL_TIMEOUT = envint("CLINICFLOW_SMTP_TIMEOUT", 20)
CLINICFLOW_EMAIL_FROM = os.getenv("CLINICFLOW_EMAIL_FROM", "") or os.getenv("CLINICFLOW_IMAP_USER", "")
# Outbound messages (docs/operations.md). The clinic's name in templates ({clinic}; empty: the branch's name).
CLINICFLOW_CLINIC_NAME = os.getenv("CLINICFLOW_CLINIC_NAME", "")
# When messages may go out, in each branch's own zone; outside, they wait for the next allowed time.
CLINICFLOW_SEND_HOURS = os.getenv("CLINICFLOW_SEND_HOURS", "09:00-21:00")
# No reminder for a visit closer than this (booked 20 minutes ahead: the patient knows).
CLINICFLOW_REMINDER_MIN_LEAD_MINUTES = envint("CLINICFLOW_REMINDER_MIN_LEAD_MINUTES", 60)
# Marketing messages per patient per 7 days; service messages are not counted.
CLINICFLOW_MARKETING_PER_WEEK = envint("CLINICFLOW_MARKETING_PER_WEEK", 2)
# A WhatsApp message the provider refuses for good goes by SMS instead.
CLINICFLOW_WHATSAPP_FALLBACK_SMS = envbool("CLINICFLOW_WHATSAPP_FALLBACK_SMS")
# An inbound message that is only one of these words withdraws marketing consent (any case).
CLINICFLOW_OPT_OUT_WORDS = os.getenv("CLINICFLOW_OPT_OUT_WORDS", "STOP,СТОП,ОТПИСАТЬСЯ,UNSUBSCRIBE,STOPALL")
# Robots' confirmation by reply: a reply that is only one of these words (any case) confirms or cancels the visit
# the patient was last asked about, within CLINICFLOW_CONFIRM_REPLY_HOURS of the question.
CLINICFLOW_CONFIRM_WORDS = os.getenv("CLINICFLOW_CONFIRM_WORDS", "1,да,yes,y,ок,ok,подтверждаю")
CLINICFLOW_CANCEL_WORDS = os.getenv("CLINICFLOW_CANCEL_WORDS", "2,нет,no,n,отмена,отменить")
CLINICFLOW_CONFIRM_REPLY_HOURS = envint("CLINICFLOW_CONFIRM_REPLY_HOURS", 72)
# Which SMS provider sends when several are configured ("sms/twilio", "sms/smsru"; empty: the first configured).
CLINICFLOW_SMS_PROVIDER = os.getenv("CLINICFLOW_SMS_PROVIDER", "")


# Reverse proxies in front of us (IPs or CIDRs). Only a request from one of them may name the client's
# address in CLINICFLOW_CLIENT_IP_HEADER; empty (the default), the socket address is the client.
CLINICFLOW_TRUSTED_PROXIES = envnetworks("CLINICFLOW_TRUSTED_PROXIES")
# The header in which the trusted proxies append the address they saw.
CLINICFLOW_CLIENT_IP_HEADER = os.getenv("CLINICFLOW_CLIENT_IP_HEADER", "X-Forwarded-For")
# Roles that must log in with a second factor (an authenticator app code), e.g.
# "receptionist,front_office_manager,clinic_admin". Superusers are included whenever the list is not empty.
CLINICFLOW_TWO_FACTOR_ROLES = [r.strip() for r in os.getenv("CLINICFLOW_TWO_FACTOR_ROLES", "").split(",") if r.strip()]
# Authenticator apps list the account under this name.
OTP_TOTP_ISSUER = "clinicflow"
# The admin never shows a device's secret key: whoever saw it could make that person's codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- messenger channels (docs/integration.md "Channels"); each is off while its secret is empty ----------
# Telegram: the secret_token given to setWebhook (Telegram echoes it in a header), the bot's token to send.
CLINICFLOW_TELEGRAM_SECRET_TOKEN = os.getenv("CLINICFLOW_TELEGRAM_SECRET_TOKEN", "")
CLINICFLOW_TELEGRAM_BOT_TOKEN = os.getenv("CLINICFLOW_TELEGRAM_BOT_TOKEN", "")
CLINICFLOW_TELEGRAM_API_BASE = os.getenv("CLINICFLOW_TELEGRAM_API_BASE", "https://api.telegram.org")
# MAX: the secret of the POST /subscriptions call (MAX echoes it in a header), the bot's token to send.
CLINICFLOW_MAX_SECRET = os.getenv("CLINICFLOW_MAX_SECRET", "")
CLINICFLOW_MAX_BOT_TOKEN = os.getenv("CLINICFLOW_MAX_BOT_TOKEN", "")
CLINICFLOW_MAX_API_BASE = os.getenv("CLINICFLOW_MAX_API_BASE", "https://platform-api2.max.ru")
# VK: the community's Callback API secret key and confirmation string, and its access token to send.
CLINICFLOW_VK_SECRET = os.getenv("CLINICFLOW_VK_SECRET", "")
CLINICFLOW_VK_CONFIRMATION = os.getenv("CLINICFLOW_VK_CONFIRMATION", "")
CLINICFLOW_VK_TOKEN = os.getenv("CLINICFLOW_VK_TOKEN", "")
CLINICFLOW_VK_API_BASE = os.getenv("CLINICFLOW_VK_API_BASE", "https://api.vk.com")
