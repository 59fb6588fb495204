"""Field-data service for door-to-door campaigns: household form, storage, aggregates, exports."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from flask import Flask, g, jsonify, request, session
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from . import auth, campaign, cli, delivery, errors, i18n, limits, logs
from .assets import asset_url, manifest_url
from .config import Config, from_environment
from .i18n import LANGS, client_messages, current_lang, day, gettext, ngettext, number
from .policy import may

__all__ = ["create_app"]

_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then SURVEY_* from the environment, then ``test_config``."""
    app = Flask(__name__)
    app.config.from_object(Config)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    camp = campaign.init_app(app)
    app.secret_key = app.config.get("SECRET_KEY") or camp.secret_key()
    app.permanent_session_lifetime = dt.timedelta(days=14)
    app.session_interface = _SessionInterface()
    hops = int(app.config["SURVEY_PROXY_HOPS"])
    if hops:  # client addresses (for login throttling) and https come from the proxy's headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
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
    app.after_request(_security_headers)
    app.jinja_env.filters["num"] = lambda value: number(value, current_lang())
    app.jinja_env.globals.update(_=gettext, ngettext=ngettext, lang=current_lang, csrf_token=auth.csrf_token,
                                LANGS=LANGS,
                                asset_url=asset_url, manifest_url=manifest_url,
                                client_messages=client_messages, may=_may, num=number, day=day)
    app.add_url_rule("/healthz", "healthz", _healthz)
    return app


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over TLS (or config says so)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)

    def should_set_cookie(self, app: Flask, session) -> bool:
        """Static files are cached publicly: they never carry a session cookie."""
        return request.endpoint != "static" and super().should_set_cookie(app, session)


def _remember_lang() -> None:
    """A ?lang= choice sticks for the session."""
    lang = request.args.get("lang")
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


def _security_headers(response):
    """Headers every answer carries: no framing, no sniffing, scripts only from here."""
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith(("/api/", "/exports/")) or "Set-Cookie" in response.headers:
        response.headers.setdefault("Cache-Control", "no-store")
    return response
