"""PostgreSQL storage (``SURVEY_DATABASE_URL=postgresql://...``).

- ``connection``: the URL the configuration names, one connection pool per process.
- ``migrate``: the schema's Alembic revisions (``flask --app wsgi db upgrade``).
- ``households``: the household backend, same contract as the TinyDB one (``kept``, ``versions``, ``search``).
"""
