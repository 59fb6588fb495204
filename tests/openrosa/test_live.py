"""Collect's exchange against gunicorn with the production config: keys stay out of the log."""

from __future__ import annotations

import hashlib
import time

import pytest
import requests

from survey import create_app
from survey.openrosa.keys import new_key

from .conftest import instance_xml

pytestmark = pytest.mark.server


def test_collect_exchange_through_gunicorn_keeps_the_key_out_of_the_access_log(data_dir, live_server):
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test"})
    with app.app_context():
        key = new_key(app.extensions["survey"], "officer")
    server = f"{live_server.url}/openrosa/key/{key}"
    headers = {"X-OpenRosa-Version": "1.0"}
    listing = requests.get(server + "/formList", headers=headers, timeout=30)
    assert listing.status_code == 200 and listing.headers["Date"]
    download_url = listing.text.split("<downloadUrl>")[1].split("</downloadUrl>")[0]
    assert download_url.startswith(server)
    # every worker builds the XForm on its own: the bytes, and so the hash, must be the same
    hashes = {requests.get(server + "/formList", headers=headers, timeout=30).text.split("<hash>")[1][:36]
              for _ in range(6)}
    downloads = {hashlib.md5(requests.get(download_url, headers=headers, timeout=30).content).hexdigest()
                 for _ in range(6)}
    assert len(hashes) == 1 and hashes == {"md5:" + md5 for md5 in downloads}
    assert requests.head(server + "/submission", headers=headers, timeout=30).status_code == 204
    files = {"xml_submission_file": ("household.xml", instance_xml(), "text/xml")}
    assert requests.post(server + "/submission", files=files, headers=headers, timeout=30).status_code == 201
    time.sleep(0.5)  # let the workers flush their log lines
    log = (data_dir.parent / f"gunicorn-{live_server.port}.log").read_text()
    assert "/openrosa/key/<key>/formList" in log and "/openrosa/key/<key>/submission" in log  # routes, not paths
    assert key not in log and key[3:20] not in log
