"""Settings, read from the environment with defaults that run the embedded mode as is."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["Config", "from_environment"]


class Config:
    """Defaults: Hòa Bình (17), TinyDB files in ./data, Vietnamese UI, Vietnam's time zone."""

    SURVEY_PROVINCE = 17
    SURVEY_DATA_DIR = "data"
    # postgresql://... keeps households in PostgreSQL instead of the data directory's files
    SURVEY_DATABASE_URL: str | None = None
    SURVEY_TIMEZONE = "Asia/Ho_Chi_Minh"
    SURVEY_FORM = str(Path(__file__).resolve().parent.parent / "forms" / "household.json")
    SURVEY_AGENCY_FORM = str(Path(__file__).resolve().parent.parent / "forms" / "agency_report.json")
    SURVEY_AGENCIES = str(Path(__file__).resolve().parent.parent / "forms" / "agencies.json")
    SURVEY_DEFAULT_LANG = "vi"
    # Request bodies above this answer 413, judged on Content-Length before reading.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # The import page takes files of paper forms up to this size (50,000 rows of CSV fit).
    IMPORT_MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "survey_session"
    # CSRF (Flask-WTF): checked by auth.protect_session_writes after the user is known, so
    # that token clients are exempt; a token lives as long as its session (an offline form
    # page stays open for days). No Referer check over HTTPS: some phones' browsers strip
    # it, and the token with the SameSite=Lax cookie already bind the request to this site.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_SSL_STRICT = False
    WTF_CSRF_HEADERS = ["X-CSRF-Token", "X-CSRFToken"]
    SECRET_KEY: str | None = None
    # Household submissions the app would store as sent are answered beneath Flask
    # (survey/api/lean_submit.py); off, every one goes through the view.
    LEAN_SUBMISSIONS = True
    PAGE_SIZE_MAX = 500
    # Login attempts allowed per account and per client address within the window (seconds).
    LOGIN_MAX_PER_ACCOUNT = 5
    LOGIN_MAX_PER_ADDRESS = 20
    LOGIN_WINDOW = 15 * 60
    # Reverse proxies in front of gunicorn whose X-Forwarded-For/-Proto are trusted (0: none).
    SURVEY_PROXY_HOPS = 0


def from_environment(env: dict[str, str] | None = None) -> dict:
    """The SURVEY_* and SECRET_KEY settings present in the environment, typed."""
    env = dict(os.environ if env is None else env)
    settings: dict = {}
    for name in ("SURVEY_DATA_DIR", "SURVEY_DATABASE_URL", "SURVEY_TIMEZONE", "SURVEY_FORM",
                 "SURVEY_DEFAULT_LANG", "SECRET_KEY"):
        if env.get(name):
            settings[name] = env[name]
    if env.get("SURVEY_PROVINCE"):
        settings["SURVEY_PROVINCE"] = int(env["SURVEY_PROVINCE"])
    if env.get("SURVEY_SECURE_COOKIES", "").lower() in ("1", "true", "yes"):
        settings["SESSION_COOKIE_SECURE"] = True
    if env.get("SURVEY_PROXY_HOPS"):
        settings["SURVEY_PROXY_HOPS"] = int(env["SURVEY_PROXY_HOPS"])
    return settings
