"""Bodies the JSON parser or the size limit could mishandle: deep nesting, chunked uploads."""

from __future__ import annotations

import http.client
import io
import json

import pytest
import requests

from ..conftest import household

URL = "/api/v1/households"


@pytest.fixture
def nothing_stored(camp):
    """Checks after the test that no household was written anywhere in the province."""
    yield
    assert camp.households.count(camp.gazetteer.communes) == 0


@pytest.mark.parametrize(("bracket", "depth"), [("[", 5_000), ("[", 200_000), ('{"a":', 100_000)])
def test_deeply_nested_json_is_a_400_naming_the_nesting(api, nothing_stored, depth, bracket):
    """A RecursionError inside the parser is the client's doing: 400, not 500."""
    closing = "]" if bracket == "[" else "}"
    raw = '{"hamlet":' + bracket * depth + "1" + closing * depth + "}"
    response = api.client.post(URL, data=raw, content_type="application/json", headers=api.headers("officer"))
    assert response.status_code == 400
    assert "nested" in response.get_json()["message"]


def _chunked_post(api, body: bytes):
    """A body with no Content-Length, as a server that decodes chunked encoding hands it over."""
    return api.client.post(URL, input_stream=io.BytesIO(body), content_type="application/json",
                           headers=api.headers("officer"), environ_overrides={"wsgi.input_terminated": True})


def test_a_chunked_body_under_the_limit_is_taken(api, camp):
    body = json.dumps(household()).encode() + b" " * (512 * 1024)
    assert _chunked_post(api, body).status_code == 201
    assert camp.households.count([4789]) == 1


def test_a_chunked_body_over_the_limit_is_413_not_cut_and_parsed(live_server, tokens, data_dir):
    """A valid record padded past 1 MiB, chunked, through the production server (which decodes
    the chunks itself): cutting it at the limit would leave a storable record."""
    body = json.dumps(household()).encode() + b" " * (2 * 1024 * 1024)
    conn = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30)
    conn.putrequest("POST", URL)
    conn.putheader("Authorization", f"Bearer {tokens['officer']}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    try:
        for start in range(0, len(body), 64 * 1024):
            chunk = body[start:start + 64 * 1024]
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before the whole body is sent
    response = conn.getresponse()
    assert response.status == 413
    conn.close()
    listing = requests.get(live_server.url + URL, params={"commune": 4789},
                           headers={"Authorization": f"Bearer {tokens['officer']}"}, timeout=30)
    assert listing.status_code == 200 and listing.json()["items"] == []
