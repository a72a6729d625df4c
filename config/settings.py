"""Django settings for Onsite. Every value that differs between machines comes from the environment
(see `.env.example`); the defaults are safe for a developer laptop running on SQLite."""

import warnings

import dj_database_url

from config.env import BASE_DIR, env_bool, env_int, env_list, env_pair, env_str
from onsite.thresholds import DEFAULTS as ONSITE_DEFAULTS

DEBUG = env_bool("DEBUG", default=False)

# The development key is refused by a system check (config/checks.py) whenever DEBUG is off.
DEVELOPMENT_SECRET_KEY = "onsite-development-key-not-for-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", DEVELOPMENT_SECRET_KEY)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# HTTPS in production (`manage.py check --deploy` names what is missing): secure cookies and HSTS
# unless DEBUG; the redirect to HTTPS stays the proxy's or an explicit setting's. README,
# "Production", lists the values.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_HTTPONLY = True  # the pages send the token from a meta tag, never from script-read cookies
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a proxy that terminates TLS: the header it sets and the value meaning HTTPS, e.g.
# "HTTP_X_FORWARDED_PROTO,https". Only set it if the proxy always overwrites that header.
SECURE_PROXY_SSL_HEADER = env_pair("SECURE_PROXY_SSL_HEADER")

INSTALLED_APPS = [
    "config.apps.ProjectConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_q",
    "workflows",
    "onsite",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # The engine's and the domain's refusals become responses here, in one place.
    "onsite.views.refusals.RefusalMiddleware",
    # Last, as django-axes asks: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out person is refused before their password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout: 5 failures for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)

# No inline script or style anywhere: every page's JavaScript and CSS are files under static/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws its form controls' marks as data: SVG images.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "onsite.views.navigation.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=600,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE: readers never block the writer and a write transaction takes the lock
    # at BEGIN, so two engine transactions serialize instead of failing at COMMIT.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

# The background worker (django-q2, `manage.py qcluster`). Broker: this database by default (nothing
# to install); Redis when Q_REDIS_URL is set, for several clusters on several machines (README,
# "Running at scale"). A job runs at most `timeout` seconds and is handed out again only after
# `retry` seconds, longer than the timeout, so a slow job never runs twice at once; it is tried at
# most `max_attempts` times, and a failure is acknowledged (kept as a failed job, shown to the
# coordinators) rather than retried for ever. A schedule missed while the cluster was down runs
# once, not once per missed period (`catch_up`). On PostgreSQL the worker keeps its connections
# (CONN_MAX_AGE above): 35 jobs/s with a connection per job, 221/s kept.
Q_REDIS_URL = env_str("Q_REDIS_URL", "")
Q_CLUSTER = {
    "name": env_str("Q_CLUSTER_NAME", "onsite"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 120),
    "retry": env_int("Q_RETRY", 180),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 5),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": env_int("Q_SAVE_LIMIT", 1000),
    "queue_limit": 50,
    "label": "Background jobs",
    # django-q2 logs every job it queues at INFO: warnings and failures only, unless asked.
    "log_level": env_str("Q_LOG_LEVEL", "WARNING"),
    **({"redis": Q_REDIS_URL} if Q_REDIS_URL else {"orm": "default", "poll": 0.5}),
}

# E-mail (the notifications): printed to the console unless an SMTP server is configured, e.g.
# EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST and the rest below.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)  # a hung server fails the try; under half a job (config.E002)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "onsite@localhost")
# Where the site is reached from outside, for the links in e-mails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves the static files from the apps and static/ directly (no collectstatic needed,
# also with DEBUG off); in production `collectstatic` lets it serve compressed copies.
WHITENOISE_USE_FINDERS = True
# STATIC_ROOT exists only after `collectstatic`; until then WhiteNoise would warn on every start.
warnings.filterwarnings("ignore", message="No directory at: .*staticfiles")
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        # SpiffWorkflow logs every task state change at INFO; keep it for debugging only.
        "spiff": {"level": env_str("SPIFF_LOG_LEVEL", "WARNING")},
        "workflows": {"handlers": ["console"], "level": env_str("WORKFLOWS_LOG_LEVEL", "INFO")},
    },
}

# The engine's limits. Each guards the server against a diagram or expression that would
# otherwise hang a worker or exhaust memory; they are checked at deploy where possible.
WORKFLOWS = {
    "FORMS_DIR": BASE_DIR / "forms",
    "MAX_BPMN_BYTES": env_int("WORKFLOWS_MAX_BPMN_BYTES", 2 * 1024 * 1024),
    "MAX_FORM_BYTES": env_int("WORKFLOWS_MAX_FORM_BYTES", 256 * 1024),
    # BPMN code runs in helper processes the OS stops at these (docs/ENGINE.md, "Threat model").
    "SCRIPT_TIME_LIMIT": float(env_str("WORKFLOWS_SCRIPT_TIME_LIMIT", "2.0")),
    "SCRIPT_MEMORY_MB": env_int("WORKFLOWS_SCRIPT_MEMORY_MB", 256),
    "SCRIPT_HELPERS": env_int("WORKFLOWS_SCRIPT_HELPERS", 4),  # per server process, started on demand
    "MAX_CODE_LENGTH": env_int("WORKFLOWS_MAX_CODE_LENGTH", 64 * 1024),
    # Every value entering process data: forms, start data, messages, operation and script results.
    "MAX_DATA_DEPTH": env_int("WORKFLOWS_MAX_DATA_DEPTH", 32),
    "MAX_DATA_ITEMS": env_int("WORKFLOWS_MAX_DATA_ITEMS", 20_000),
    "MAX_STRING_LENGTH": env_int("WORKFLOWS_MAX_STRING_LENGTH", 100_000),
    "MAX_DATA_BYTES": env_int("WORKFLOWS_MAX_DATA_BYTES", 1024 * 1024),
    # Timers: the shortest cycle, the farthest fire time, missed cycle firings caught up at once.
    "MIN_TIMER_CYCLE_SECONDS": env_int("WORKFLOWS_MIN_TIMER_CYCLE_SECONDS", 60),
    "MAX_TIMER_SPAN_DAYS": env_int("WORKFLOWS_MAX_TIMER_SPAN_DAYS", 36_600),
    "MAX_CYCLE_CATCH_UP": env_int("WORKFLOWS_MAX_CYCLE_CATCH_UP", 10),
    "MAX_CALL_DEPTH": env_int("WORKFLOWS_MAX_CALL_DEPTH", 8),
    "ENGINE_TIME_LIMIT": float(env_str("WORKFLOWS_ENGINE_TIME_LIMIT", "20.0")),
    "MAX_STEPS_PER_RUN": env_int("WORKFLOWS_MAX_STEPS_PER_RUN", 5000),
    "MAX_TASKS_PER_INSTANCE": env_int("WORKFLOWS_MAX_TASKS_PER_INSTANCE", 20000),
    "MAX_MULTI_INSTANCE": env_int("WORKFLOWS_MAX_MULTI_INSTANCE", 1000),
    "MAX_STATE_BYTES": env_int("WORKFLOWS_MAX_STATE_BYTES", 8 * 1024 * 1024),
    # Lanes that map to no role send their tasks here until the lane is mapped.
    "FALLBACK_ROLE": env_str("WORKFLOWS_FALLBACK_ROLE", "coordinator"),
    # The domain's throwaway records and answers for `start_instance --dry-run` (workflows/dry_run.py).
    "DRY_RUN_SETUP": "onsite.dry_run.dry_run_setup",
}

# The on-site service's business thresholds, each overridable as ONSITE_<NAME> (onsite/thresholds.py
# says what each means and holds the defaults).
ONSITE = {name: env_int(f"ONSITE_{name}", default) for name, default in ONSITE_DEFAULTS.items()}
