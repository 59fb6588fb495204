"""Entry point for gunicorn and the flask CLI: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

from survey import create_app

app = create_app()
