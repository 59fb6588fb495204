"""Fixtures shared with the reliability tests (tokens made before a live server starts)."""

from tests.reliability.conftest import tokens  # noqa: F401  (a fixture, re-exported)
