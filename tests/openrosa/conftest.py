"""Collect's side of the OpenRosa exchange, as ODK Collect sends it, for the tests."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from xml.etree import ElementTree as ET

import pytest
from openpyxl import load_workbook

from survey.openrosa.keys import new_key
from survey.reporting.tables import household_columns

OPENROSA = {"X-OpenRosa-Version": "1.0"}
SERVER_FIELDS = {"id", "created_at", "updated_at", "officer"}
NS = {"x": "http://openrosa.org/xforms/xformsList", "r": "http://openrosa.org/http/response"}


def instance_xml(form_version: str = "1", instance_id: str | None = None, form_id: str = "household",
                 **answers: object) -> bytes:
    """A submission as Collect writes it: the instance root with the form's id and version."""
    values = {"commune_code": 4789, "hamlet": "Xóm Mới", "head_name": "Bùi Văn An", "address": "",
              "members": 4, "smartphone_users": 2, "installed_before": 1, "installed_during_visit": 1,
              "reasons_not_installed": "no_smartphone", "visited_on": "2020-08-15", "note": ""}
    values.update(answers)
    root = ET.Element("data", {"id": form_id, "version": form_version,
                               "xmlns:jr": "http://openrosa.org/javarosa",
                               "xmlns:orx": "http://openrosa.org/xforms"})
    for name, value in values.items():
        if value is not ...:
            ET.SubElement(root, name).text = "" if value is None else str(value)
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "instanceID").text = instance_id or f"uuid:{uuid.uuid4()}"
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class Collect:
    """One phone configured with a server URL (a key URL, or the plain URL and a password)."""

    def __init__(self, client, server: str, auth: tuple[str, str] | None = None):
        self.client, self.server, self.auth = client, server.rstrip("/"), auth

    def _kw(self) -> dict:
        kw: dict = {"headers": dict(OPENROSA)}
        if self.auth:
            kw["auth"] = self.auth
        return kw

    def get(self, url: str):
        return self.client.get(url if "://" in url else self.server + url, **self._kw())

    def form_list(self):
        return self.get("/formList")

    def entries(self) -> list[dict[str, str]]:
        response = self.form_list()
        assert response.status_code == 200, response.get_data(as_text=True)
        root = ET.fromstring(response.get_data())
        return [{child.tag.split("}")[1]: child.text for child in xform} for xform in root.findall("x:xform", NS)]

    def download(self) -> bytes:
        """Download the one form listed and check its hash, as Collect does before keeping it."""
        (entry,) = self.entries()
        body = self.get(entry["downloadUrl"])
        assert body.status_code == 200
        assert entry["hash"] == "md5:" + hashlib.md5(body.get_data()).hexdigest()
        return body.get_data()

    def head(self):
        return self.client.head(self.server + "/submission", **self._kw())

    def submit(self, xml: bytes, *attachments: tuple[str, bytes, str]):
        """POST multipart/form-data: xml_submission_file, then each attachment by its file name."""
        import io
        data: dict = {"xml_submission_file": (io.BytesIO(xml), "household.xml", "text/xml")}
        for name, content, mime in attachments:
            data[name] = (io.BytesIO(content), name, mime)
        return self.client.post(self.server + "/submission", data=data,
                                content_type="multipart/form-data", **self._kw())


def message(response) -> str:
    """The officer-facing message of an OpenRosaResponse."""
    root = ET.fromstring(response.get_data())
    assert root.tag == "{http://openrosa.org/http/response}OpenRosaResponse"
    return root.find("r:message", NS).text


@pytest.fixture
def key_url(app, camp):
    """A Collect server URL holding a fresh key of ``officer`` (commune 4789)."""
    def make(username: str = "officer") -> str:
        return f"http://localhost/openrosa/key/{new_key(camp, username)}"
    return make


@pytest.fixture
def collect(client, key_url) -> Collect:
    return Collect(client, key_url())


def _export_values(rows: list[list], form) -> dict[str, list]:
    """Export rows keyed by record id, without the columns the server sets per record."""
    columns = household_columns(form)
    keep = [i for i, name in enumerate(columns) if name not in SERVER_FIELDS]
    assert len(rows[0]) == len(columns)
    return {str(row[0]): [row[i] for i in keep] for row in rows[1:]}


def same_household_everywhere(api, camp, collect_id: str, twin: dict) -> None:
    """The household sent through Collect's exchange is in the API list once, equal to its
    ``twin`` typed through the JSON API (server fields aside), in the aggregates and both exports."""
    items = api.get("/api/v1/households?commune=4789").get_json()["items"]
    by_id = {item["id"]: item for item in items}
    assert len(items) == 2 and set(by_id) == {collect_id, twin["id"]}
    assert ({k: v for k, v in by_id[collect_id].items() if k not in SERVER_FIELDS}
            == {k: v for k, v in by_id[twin["id"]].items() if k not in SERVER_FIELDS})

    rows = api.get("/api/v1/aggregates?level=commune&commune=4789").get_json()["rows"]
    (row,) = [r for r in rows if r["code"] == 4789]
    assert row["households"] == 2
    for name in camp.form.aggregate["sums"]:
        assert row[name] == 2 * twin[name], name

    text = api.get("/exports/households.csv?commune=4789").get_data().decode("utf-8-sig")
    csv_rows = _export_values(list(csv.reader(io.StringIO(text))), camp.form)
    assert sorted(csv_rows) == sorted([collect_id, twin["id"]])
    assert csv_rows[collect_id] == csv_rows[twin["id"]]

    book = load_workbook(io.BytesIO(api.get("/exports/households.xlsx?commune=4789").get_data()), read_only=True)
    xlsx_rows = _export_values([list(r) for r in book.active.iter_rows(values_only=True)], camp.form)
    assert sorted(xlsx_rows) == sorted([collect_id, twin["id"]])
    assert xlsx_rows[collect_id] == xlsx_rows[twin["id"]]
