"""The campaign's services for one app: gazetteer, form, schemas, stores and clock.

This module only wires: it builds each service once per app and hands it to views. The
domain packages (households, reporting) and storage never import it at run time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from flask import Flask, current_app

from .accounts import AccountLog
from .forms import FormDefinition, SchemaFactory, load_form
from .gazetteer import Gazetteer, load_gazetteer
from .households.records import HouseholdRecords
from .households.review import Flags, History
from .households.search_index import SEARCH_INDEX, search_summary
from .reporting.agencies import AgencyRegistry
from .reporting.agency_reports import AgencyReportStore
from .reporting.aggregate import hamlet_tally, merge_tallies, tally_summary
from .reporting.dashboard import ACTIVITY, activity_summary
from .settings import SettingsStore
from .storage import DocumentStore, KeptSummary, open_documents, open_households
from .storage.postgres import connection
from .storage.postgres.url import database_url
from .throttle import Limits, LoginThrottle
from .users import UserStore

__all__ = ["Campaign", "campaign"]


class Campaign:
    """Everything a view needs that is not the request, built once per app."""

    def __init__(self, config: dict):
        self.data_dir = Path(config["SURVEY_DATA_DIR"]).resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.tz = ZoneInfo(config["SURVEY_TIMEZONE"])
        self.gazetteer: Gazetteer = load_gazetteer(int(config["SURVEY_PROVINCE"]))
        self.form: FormDefinition = load_form(config["SURVEY_FORM"])
        self.schemas = SchemaFactory(self.form, self.gazetteer, self.today, window=self.visit_window)
        self.households = HouseholdRecords(open_households(self.data_dir, database_url(config)))
        self.households.backend.keep_summary("hamlets", self.hamlet_tallies())
        if not self.households.backend.searches_itself:  # PostgreSQL searches by its own index
            self.households.backend.keep_summary(SEARCH_INDEX, search_summary())
        self.households.backend.keep_summary(ACTIVITY, activity_summary(self.form.aggregate["installed"], self.tz))
        self.documents = open_documents(config)
        self.agencies = AgencyRegistry(config["SURVEY_AGENCIES"], self.documents, self.gazetteer)
        self.agency_form: FormDefinition = load_form(config["SURVEY_AGENCY_FORM"])
        self.agency_schemas = SchemaFactory(self.agency_form, self.gazetteer, self.today,
                                            agencies=self.agencies.codes)
        self.agency_reports = AgencyReportStore(self.documents)
        self.settings = SettingsStore(self.documents)
        self.users = UserStore(self.documents, self.gazetteer, self.agencies.all)
        self.account_log = AccountLog(self.documents)
        self.history = History(self.documents)
        self.flags = Flags(self.documents)
        self.logins = LoginThrottle(self.documents, Limits(
            config["LOGIN_MAX_PER_ACCOUNT"], config["LOGIN_MAX_PER_ADDRESS"], config["LOGIN_WINDOW"]))

    def hamlet_tallies(self) -> KeptSummary:
        """Hamlet totals kept beside each commune's file, so aggregates never start from zero."""
        form = self.form
        shape = orjson.dumps([form.aggregate, form.choice_labels(form.aggregate["counts"], "en")])
        return KeptSummary(tally=lambda records: hamlet_tally(records, form), merge=merge_tallies,
                           finish=lambda tally: tally_summary(tally, form),
                           version=hashlib.sha256(shape).hexdigest()[:16])

    def backed_up_collections(self) -> list[DocumentStore]:
        """Every collection the stores keep besides households, for backups (login attempts
        are left out: they matter for fifteen minutes)."""
        singles = [self.users.users, self.users.tokens, self.agencies.changes, self.agency_reports.collection,
                   self.settings.collection, self.account_log.coll]
        return [*singles, *self.history.collections(), *self.flags.collections()]

    def now(self) -> dt.datetime:
        """The current time in the campaign's time zone."""
        return dt.datetime.now(self.tz)

    def today(self) -> dt.date:
        """Today in the campaign's time zone, not the server's."""
        return self.now().date()

    def visit_window(self) -> tuple[dt.date, dt.date]:
        """The first and last day of visits, as the Department set them."""
        return self.settings.get().window

    def stamp(self) -> str:
        """A timestamp for records: ISO 8601 with the campaign's UTC offset."""
        return self.now().isoformat(timespec="seconds")

    def secret_key(self) -> str:
        """The session-signing key shared by all workers (and hosts), created once where the
        documents live."""
        return self.documents.secret_key()


def campaign() -> Campaign:
    """The current app's campaign."""
    return current_app.extensions["survey"]


def init_app(app: Flask) -> Campaign:
    """Attach a campaign to ``app``; with PostgreSQL, each request keeps the one connection it
    takes first (registered before any hook that reads)."""
    app.extensions["survey"] = Campaign(app.config)
    if database_url(app.config):
        app.before_request(connection.hold)
        app.teardown_request(_release_connections)
    return app.extensions["survey"]


def _release_connections(_error: BaseException | None) -> None:
    connection.release()

