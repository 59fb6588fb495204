"""Uploaded tables: spreadsheet bombs get a clear 4xx within seconds, in little memory, and
three at once leave the service up; caps on rows, columns and cells hold for CSV too."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from survey.uploads import Limits, UploadError, read_table

from . import bombs
from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
BOMBS = {"dimension": bombs.dimension_bomb, "huge_sheet": bombs.huge_sheet_bomb,
         "shared_strings": bombs.shared_strings_bomb, "bzip2": bombs.bzip2_bomb}
REASONS = {"dimension": "no household under them", "huge_sheet": "zip bomb", "shared_strings": "shared text table",
           "bzip2": "unsupported compression"}

# One upload in a fresh interpreter, as a gunicorn worker would take it: its answer, how long
# it took and the process's peak memory (the app and its libraries included).
PROBE = """
import io, json, sys, time
def peak_mb():  # this process's own high-water mark: ru_maxrss would carry the parent's across fork and exec
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")) / 1024
from survey import create_app
from tests.conftest import as_user, csrf
data_dir, path, page = sys.argv[1:4]
app = create_app({"SURVEY_DATA_DIR": data_dir, "SECRET_KEY": "test", "TESTING": True})
client = as_user(app, "department")
token = csrf(client, page)
body = open(path, "rb").read()
before = peak_mb()
start = time.monotonic()
r = client.post(page, data={"csrf_token": token, "file": (io.BytesIO(body), "bomb.xlsx")},
                content_type="multipart/form-data")
print(json.dumps({"status": r.status_code, "seconds": time.monotonic() - start,
                  "peak_mb": peak_mb(), "before_mb": before,
                  "page": r.get_data(as_text=True)}))
"""


@pytest.fixture(scope="module")
def bomb_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    files = {}
    for name, build in BOMBS.items():
        files[name] = folder / f"{name}.xlsx"
        files[name].write_bytes(build())
    return files


def test_the_bombs_are_what_they_claim(bomb_files):
    import zipfile
    sizes = {n: sum(i.file_size for i in zipfile.ZipFile(p).infolist()) for n, p in bomb_files.items()}
    assert bomb_files["dimension"].stat().st_size < 10_000
    assert sizes["huge_sheet"] > 1024 ** 3 and bomb_files["huge_sheet"].stat().st_size < 4 * 1024 ** 2
    assert sizes["shared_strings"] > 300 * 1024 ** 2 and bomb_files["shared_strings"].stat().st_size < 1024 ** 2


@pytest.mark.parametrize("name", ["huge_sheet", "shared_strings", "bzip2"])
def test_the_reader_refuses_a_bomb_before_unpacking_it(bomb_files, name):
    start = time.monotonic()
    with pytest.raises(UploadError, match=REASONS[name]):
        list(read_table("x.xlsx", io.BytesIO(bomb_files[name].read_bytes())))
    assert time.monotonic() - start < 2


def test_the_reader_ignores_a_lying_dimension(bomb_files):
    start = time.monotonic()
    rows = list(read_table("x.xlsx", io.BytesIO(bomb_files["dimension"].read_bytes())))
    assert time.monotonic() - start < 5
    assert len(rows) == 50_001 and {len(r) for r in rows[1:]} == {1}


@pytest.mark.parametrize("page", ["/import", "/accounts"])
@pytest.mark.parametrize("name", list(BOMBS))
def test_a_bomb_upload_is_a_4xx_within_seconds_in_little_memory(bomb_files, data_dir, name, page):
    out = subprocess.run([sys.executable, "-c", PROBE, str(data_dir), str(bomb_files[name]), page], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    over_limit = page == "/accounts" and bomb_files[name].stat().st_size > 1024 * 1024  # the 1 MB body limit
    assert answer["status"] == (413 if over_limit else 422), answer["page"][-1500:]
    measured = {k: answer[k] for k in ("seconds", "peak_mb", "before_mb")}
    assert answer["seconds"] < 5 and answer["peak_mb"] < 300, measured
    assert answer["peak_mb"] - answer["before_mb"] < 50, measured  # the upload itself costs little
    expected = REASONS[name] if page == "/import" or name != "dimension" else "needs columns username"
    assert ("larger than the 1 MB limit" if over_limit else expected) in answer["page"]
    print(name, page, answer["status"], f"{answer['seconds']:.2f} s", f"{answer['before_mb']:.0f} -> {answer['peak_mb']:.0f} MB")


def _upload_as_department(url: str, path: Path) -> int:
    with requests.Session() as s:
        login = s.get(url + "/login", timeout=30).text
        token = login.split('name="csrf_token" value="')[1].split('"')[0]
        s.post(url + "/login", data={"username": "department", "password": PASSWORD, "csrf_token": token}, timeout=30)
        token = s.get(url + "/import", timeout=30).text.split('name="csrf_token" value="')[1].split('"')[0]
        with open(path, "rb") as fh:
            return s.post(url + "/import", data={"csrf_token": token}, files={"file": ("bomb.xlsx", fh)},
                          timeout=60).status_code


@pytest.mark.server
def test_three_bombs_at_once_leave_the_service_up(bomb_files, live_server):
    start = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        names = ["huge_sheet", "shared_strings", "dimension"]
        statuses = list(pool.map(lambda n: _upload_as_department(live_server.url, bomb_files[n]), names))
    assert statuses == [422, 422, 422]
    assert time.monotonic() - start < 20
    assert requests.get(live_server.url + "/healthz", timeout=5).status_code == 200


def csv_bytes(rows: list[list]) -> io.BytesIO:
    return io.BytesIO("\n".join(",".join(map(str, r)) for r in rows).encode())


@pytest.mark.parametrize("rows, limits, reason", [
    ([["a"]] * 11, Limits(rows=10), "more than 10 rows"),
    ([["a"] * 5], Limits(columns=4), "row 1 has more than 4 columns"),
    ([["a"] * 4] * 3, Limits(cells=10), "more than 10 cells"),
])
def test_csv_caps(rows, limits, reason):
    with pytest.raises(UploadError, match=reason):
        list(read_table("x.csv", csv_bytes(rows), limits))
    assert len(list(read_table("x.csv", csv_bytes(rows[:-1]), limits))) == len(rows) - 1 or reason.startswith("row")


def test_a_csv_is_read_as_utf8_text_past_its_bom_and_refused_before_its_first_row_if_it_is_not():
    good = "\n".join(["\ufeffxã,hộ"] + [f'{n},"Hà Thị Ánh\r\nxuống dòng"' for n in range(60_000)]).encode()
    rows = list(read_table("x.csv", io.BytesIO(good), Limits(rows=100_000, cells=10**6)))
    assert rows[0] == ["xã", "hộ"] and rows[-1] == ["59999", "Hà Thị Ánh\r\nxuống dòng"] and len(rows) == 60_001
    bad = read_table("x.csv", io.BytesIO(good[:1_500_000] + b"\xff" + good[1_500_000:]))
    with pytest.raises(UploadError, match="not UTF-8"):  # past the first megabyte, yet before any row
        next(bad)


def test_a_csv_field_over_the_size_limit_is_refused():
    with pytest.raises(UploadError, match="cannot be read at line 1"):
        list(read_table("x.csv", io.BytesIO(b'"' + b"a" * 200_000 + b'"\n')))


def test_an_xlsx_with_a_gap_of_a_million_rows_stops_at_the_cap():
    parts = bombs.workbook_members([bombs.HEADINGS])
    sheet = parts["xl/worksheets/sheet1.xml"].replace(
        b"</sheetData>", b'<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>')
    members = {n: bombs.deflated(parts[n] if n != "xl/worksheets/sheet1.xml" else sheet) for n in parts}
    start = time.monotonic()
    with pytest.raises(UploadError, match="more than 100000 rows"):
        list(read_table("x.xlsx", io.BytesIO(bombs.zip_of(members))))
    assert time.monotonic() - start < 5


def test_a_member_that_understates_its_size_is_cut_at_the_size_it_declares():
    """The checks read declared sizes; zipfile never inflates past them, so a lie only breaks the file."""
    parts = bombs.workbook_members([bombs.HEADINGS])
    head, tail = parts["xl/worksheets/sheet1.xml"].split(b"</sheetData>")
    row = b"<row><c><v>1</v></c></row>"
    method, data, crc, _ = bombs.deflated(head, row * 40_000, 1000, b"</sheetData>" + tail)
    members = {n: bombs.deflated(p) for n, p in parts.items()}
    members["xl/worksheets/sheet1.xml"] = (method, data, crc, len(head) + 4000)
    start = time.monotonic()
    with pytest.raises(UploadError, match="cannot be read"):
        list(read_table("x.xlsx", io.BytesIO(bombs.zip_of(members))))
    assert time.monotonic() - start < 2


def test_a_file_on_the_servers_own_disk_may_hold_a_whole_province():
    from survey.uploads import LOCAL_FILE_LIMITS
    rows = [["commune_code", "hamlet"]] + [[4789, "Xóm"]] * 150_000
    assert len(list(read_table("ho.csv", csv_bytes(rows), LOCAL_FILE_LIMITS))) == 150_001
    with pytest.raises(UploadError, match="more than 100000 rows"):
        list(read_table("ho.csv", csv_bytes(rows)))
