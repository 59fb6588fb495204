"""Production server settings; every value can be overridden from the environment."""

import os

# deploy/serve binds gunicorn to a private unix socket behind nginx; run bare only on loopback.
bind = os.environ.get("SURVEY_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SURVEY_WORKERS", (os.cpu_count() or 1) * 2 + 1))
worker_class = "sync"
# A sync worker is killed when one request outlasts this: it must cover the longest
# download (the province's households as XLSX: ~25 s at 1,000,000 on a quiet 2-core
# machine, twice that under load), while a truly hung worker is still replaced.
timeout = int(os.environ.get("SURVEY_TIMEOUT", 180))
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
# Route templates, never paths, query strings or bodies: a path can name an account and a
# query can hold a search; the logger prints /accounts/<username>/reset (survey/logs.py).
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
logger_class = "survey.logs.RedactingLogger"  # routes, never paths: Collect keys and usernames stay out
forwarded_allow_ips = os.environ.get("SURVEY_FORWARDED_ALLOW_IPS", "127.0.0.1")
# No runtime control socket: it lives at one fixed path per user, which several instances
# (tests, benchmarks, a second campaign) would fight over, and nothing here uses it.
control_socket_disable = True
