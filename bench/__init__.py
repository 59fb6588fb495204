"""The province-scale benchmark: synthetic campaign, real gunicorn, wrk load, one table.

Run ``make bench`` (or ``.venv/bin/python -m bench --help``); BENCHMARKS.md explains it.
"""
