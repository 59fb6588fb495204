"""Field-data service for door-to-door campaigns: household form, storage, aggregates, exports."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from flask import Flask, g, jsonify, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from . import auth, campaign, cli, delivery, errors, i18n, limits, logs
from .api.lean_submit import LeanSubmissions
from .assets import asset_url, manifest_url
from .config import Config, from_environment
from .headers import security_headers
from .i18n import LANGS, asked_lang, client_messages, current_lang, day, gettext, ngettext, number
from .policy import may

__all__ = ["create_app"]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then SURVEY_* from the environment, then ``test_config``."""
    app = _App(__name__)
    app.config.from_object(Config)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    camp = campaign.init_app(app)
    app.secret_key = app.config.get("SECRET_KEY") or camp.secret_key()
    app.permanent_session_lifetime = dt.timedelta(days=14)
    app.session_interface = _SessionInterface()
    app.json.sort_keys = False  # records keep the form's field order

    from .api import bp as api_bp
    from .downloads import bp as downloads_bp
    from .openrosa import bp as openrosa_bp
    from .pages import bp as pages_bp
    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(downloads_bp)
    app.register_blueprint(openrosa_bp)
    auth.csrf.init_app(app)
    i18n.init_app(app)
    errors.register(app)
    delivery.init_app(app)
    cli.register(app)
    logs.install(app)

    app.before_request(limits.apply_view_limit)
    app.before_request(limits.refuse_oversized_stream)
    app.before_request(_remember_lang)
    app.before_request(auth.load_user)
    app.before_request(auth.protect_session_writes)
    app.before_request(auth.require_password_change)
    app.after_request(security_headers)
    app.jinja_env.filters["num"] = lambda value: number(value, current_lang())
    app.jinja_env.globals.update(_=gettext, ngettext=ngettext, lang=current_lang, csrf_token=auth.csrf_token,
                                LANGS=LANGS,
                                asset_url=asset_url, manifest_url=manifest_url,
                                client_messages=client_messages, may=_may, num=number, day=day)
    app.add_url_rule("/healthz", "healthz", _healthz)
    _wrap(app)
    return app


def _wrap(app: Flask) -> None:
    """What stands between gunicorn and Flask: the proxy's headers read first, then household
    submissions answered without the framework when they can be (``api.lean_submit``)."""
    if app.config["LEAN_SUBMISSIONS"]:
        app.wsgi_app = LeanSubmissions(app, app.wsgi_app)  # type: ignore[method-assign]
    hops = int(app.config["SURVEY_PROXY_HOPS"])
    if hops:  # client addresses (for login throttling) and https come from the proxy's headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


class _App(Flask):
    """Flask, asking once per hook and view whether it is a coroutine (Flask asks on every request).

    The app's hooks and views are a fixed few; callbacks made per request (``after_this_request``)
    are not kept once the table is full, so it cannot grow without end."""

    _SYNC_KEPT = 512

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable, Callable] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        sync = self._sync.get(func)
        if sync is None:
            sync = super().ensure_sync(func)
            if len(self._sync) < self._SYNC_KEPT:
                self._sync[func] = sync
        return sync


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over TLS (or config says so)."""

    _signing: tuple[tuple, URLSafeTimedSerializer | None] = ((), None)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask builds the signer on every request; it is kept while the keys stay the same."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._signing[0] != keys:
            self._signing = (keys, super().get_signing_serializer(app))
        return self._signing[1]

    def open_session(self, app: Flask, request) -> SecureCookieSession | None:
        """A request with no Cookie header (a phone's bearer-token API call) starts an empty
        session without parsing cookies or consulting the signer."""
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        """A session nobody read or changed, and empty, leaves the answer as it is (Flask's own
        outcome, without working out the cookie's attributes first)."""
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)

    def should_set_cookie(self, app: Flask, session) -> bool:
        """Static files are cached publicly: they never carry a session cookie."""
        return request.endpoint != "static" and super().should_set_cookie(app, session)


def _remember_lang() -> None:
    """A ?lang= choice sticks for the session."""
    lang = asked_lang()
    if lang in LANGS and session.get("lang") != lang:
        session["lang"] = lang


def _may(action: str) -> bool:
    """Templates ask the policy about the signed-in user: ``{% if may("see_dashboard") %}``."""
    return may(g.get("user"), action)


def _healthz():
    """Liveness and whether the data directory takes writes."""
    camp = campaign.campaign()
    return jsonify({"status": "ok", "province": camp.gazetteer.province.code,
                    "data_dir_writable": _writable(camp.data_dir)})


def _writable(path) -> bool:
    return os.access(path, os.W_OK)
