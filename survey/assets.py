"""The form's static assets under one content version, so a deploy replaces the phone's cached copy."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import current_app

__all__ = ["OFFLINE_ASSETS", "asset_url", "asset_version", "manifest_url", "offline_urls"]

# Static files the form needs with no signal; the service worker caches exactly these.
OFFLINE_ASSETS = ("app.css", "js/checks.js", "js/errors.js", "js/store.js", "js/sync.js", "js/form.js",
                  "icons/icon-192.png", "icons/icon-512.png")


@lru_cache(maxsize=4)
def _version(static_folder: str) -> str:
    digest = hashlib.sha256()
    for name in OFFLINE_ASSETS:
        digest.update(name.encode())
        digest.update((Path(static_folder) / name).read_bytes())
    return digest.hexdigest()[:12]


def asset_version() -> str:
    """A short hash of every offline asset: it changes whenever one of them does."""
    return _version(str(current_app.static_folder))


def asset_url(filename: str) -> str:
    """A static file's URL carrying the asset version, so a new deploy is never served stale."""
    return f"{current_app.static_url_path}/{filename}?v={asset_version()}"


def manifest_url() -> str:
    """The web app manifest's URL, versioned like the assets."""
    return f"/manifest.webmanifest?v={asset_version()}"


def offline_urls() -> list[str]:
    """Every URL the service worker caches ahead of need, the manifest included."""
    return [asset_url(name) for name in OFFLINE_ASSETS] + [manifest_url()]
