"""Large imports: stored in batches (a few fsyncs, not one per row), as a job whose progress the
page polls, all-or-nothing per batch and idempotent."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest

from survey.households import imports
from survey.households.imports import import_rows, read_rows
from survey.memory import give_back
from survey.storage.claims import BUCKETS
from tests.conftest import as_user, csrf

HEADINGS = ["commune_code", "hamlet", "head_name", "members", "smartphone_users", "installed_before",
            "installed_during_visit", "visited_on"]


def paper_csv(n: int, communes: list[int] | tuple[int, ...] = (4789,)) -> bytes:
    """``n`` households, spread over ``communes`` in turn."""
    lines = [",".join(HEADINGS)]
    lines += [f"{communes[i % len(communes)]},Xóm {i % 13},Hộ số {i},{1 + i % 6},1,0,1,2020-08-{10 + i % 10}"
              for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def upload(client, data: bytes):
    return client.post("/import", data={"csrf_token": csrf(client, "/import"), "file": (io.BytesIO(data), "ho.csv")},
                       content_type="multipart/form-data")


def wait_for_job(client, location: str, timeout: float = 60) -> dict:
    """Poll the job's JSON as the page does, until it is no longer running."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        status = client.get(location + ".json").get_json()
        seen.append(status["done"])
        if status["state"] != "running":
            return {**status, "seen": seen}
        time.sleep(0.5)
    raise AssertionError(f"the import job did not finish in {timeout} s: {seen[-5:]}")


def test_a_large_upload_runs_as_a_job_whose_progress_the_page_polls(app, camp):
    client = as_user(app, "officer")
    r = upload(client, paper_csv(2500))
    assert r.status_code == 303 and "/import/jobs/" in r.headers["Location"]
    location = r.headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert 'id="import-job"' in page and "import-job.js" in page and 'http-equiv="refresh"' in page
    status = wait_for_job(client, location)
    assert status == {**status, "state": "done", "done": 2500, "total": 2500, "created": 2500, "unchanged": 0,
                      "error_count": 0}
    assert status["seen"] == sorted(status["seen"])
    assert camp.households.count([4789]) == 2500
    done = client.get(location).get_data(as_text=True)
    assert "Đã lưu 2.500 hộ mới, 0 hộ đã có, 0 dòng lỗi" in done and 'http-equiv="refresh"' not in done
    again = wait_for_job(client, upload(client, paper_csv(2500)).headers["Location"])
    assert (again["created"], again["unchanged"]) == (0, 2500) and camp.households.count([4789]) == 2500


def test_a_job_is_seen_by_its_owner_only(app):
    owner = as_user(app, "officer")
    location = upload(owner, paper_csv(1200)).headers["Location"]
    wait_for_job(owner, location)
    other = as_user(app, "department")
    assert other.get(location).status_code == 404 and other.get(location + ".json").status_code == 404
    assert owner.get("/import/jobs/..%2F..%2Fusers.json").status_code == 404
    assert owner.get("/import/jobs/AAAAAAAAAAAAAAAA.json").status_code == 404


def test_rows_are_written_in_batches_with_few_fsyncs(camp, monkeypatch):
    camp.households.backend.claims.ensure_complete()  # built once per data directory, not per import
    calls = []
    for name in ("fsync", "fdatasync"):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda fd, real=real: calls.append(fd) or real(fd))
    user = camp.users.load("officer")
    report = import_rows(camp, user, read_rows(camp, "ho.csv", io.BytesIO(paper_csv(5000))))
    assert report.created == 5000 and not report.errors
    # 3 batches of one commune: per batch, one sync per id-claim bucket and a few files; not 5000
    assert len(calls) <= 3 * (BUCKETS + 8), len(calls)


def test_a_failed_batch_stores_nothing_of_itself_and_a_second_import_completes(camp, monkeypatch):
    user = camp.users.load("officer")
    rows = list(read_rows(camp, "ho.csv", io.BytesIO(paper_csv(5000))))
    real, calls = camp.households.bulk_insert, []

    def failing_second(commune, records):
        calls.append(len(records))
        if len(calls) == 2:
            raise OSError("disk full")
        return real(commune, records)

    monkeypatch.setattr(camp.households, "bulk_insert", failing_second)
    with pytest.raises(OSError):
        import_rows(camp, user, iter(rows))
    assert camp.households.count([4789]) == imports.BATCH  # the first batch whole, the second not at all
    monkeypatch.setattr(camp.households, "bulk_insert", real)
    report = import_rows(camp, user, iter(rows))
    assert (report.created, report.unchanged) == (5000 - imports.BATCH, imports.BATCH)
    assert camp.households.count([4789]) == 5000


def test_a_row_whose_id_holds_other_content_is_refused_not_overwritten(camp):
    user = camp.users.load("officer")
    first = "id,commune_code,hamlet,head_name,members,smartphone_users,installed_before,installed_during_visit,visited_on\n"
    same_id = "6f1c1d1e-0000-4000-8000-000000000001"
    report = import_rows(camp, user, read_rows(camp, "a.csv", io.BytesIO(
        (first + f"{same_id},4789,Xóm A,Hộ A,2,1,0,1,2020-08-15\n{same_id},4789,Xóm B,Hộ B,2,1,0,1,2020-08-15\n")
        .encode())))
    assert report.created == 1 and [n for n, _ in report.errors] == [3]
    assert camp.households.get(same_id, [4789])["head_name"] == "Hộ A"


def test_an_import_leaves_no_commune_it_wrote_in_the_decoded_cache(camp):
    from survey.storage.cache import CACHE
    CACHE.items.clear()
    CACHE.used = 0
    user = camp.users.load("department")
    report = import_rows(camp, user, read_rows(camp, "ho.csv", io.BytesIO(paper_csv(6000, (4789, 4792, 4795)))))
    assert report.created == 6000 and not report.errors
    communes = [str(camp.households.backend.shard(c).path) for c in (4789, 4792, 4795)]
    assert not [path for path in CACHE.items if any(path.startswith(c[:-5]) for c in communes)]
    assert len(list(camp.households.scan(4789))) == 2000  # a reader's request still keeps what it reads
    assert any(path.startswith(communes[0][:-5]) for path in CACHE.items)


def test_a_job_starts_with_the_decoded_cache_emptied(app, camp):
    """Readers' decoded communes (up to 55 MB) would stay beside the job's own peak."""
    from survey.storage.cache import CACHE
    import_rows(camp, camp.users.load("department"), read_rows(camp, "ho.csv", io.BytesIO(paper_csv(50, (4792,)))))
    assert len(list(camp.households.scan(4792))) == 50
    assert [path for path in CACHE.items if "4792" in path]  # a reader kept what it read
    client = as_user(app, "officer")
    status = wait_for_job(client, upload(client, paper_csv(2500)).headers["Location"])
    assert status["state"] == "done" and status["created"] == 2500
    assert not [path for path in CACHE.items if "4792" in path]
    assert CACHE.used == sum(item[2] for item in CACHE.items.values())


def test_the_cache_passes_through_only_in_the_thread_that_asked():
    import threading

    from survey.storage.cache import DecodedCache
    cache, kept_elsewhere = DecodedCache(), []
    with cache.passing_through():
        cache.put("a", "1", {"x": 1}, 10)
        worker = threading.Thread(target=lambda: (cache.put("b", "1", {"y": 2}, 10),
                                                  kept_elsewhere.append(cache.get("b", "1"))))
        worker.start()
        worker.join()
    assert cache.get("a", "1") is None and kept_elsewhere == [{"y": 2}]
    cache.put("a", "1", {"x": 1}, 10)
    assert cache.get("a", "1") == {"x": 1}


def test_a_row_repeated_in_the_file_is_stored_once_and_counted_unchanged(camp):
    user = camp.users.load("officer")
    head = "id,commune_code,hamlet,head_name,members,smartphone_users,installed_before,installed_during_visit,visited_on\n"
    row = "6f1c1d1e-0000-4000-8000-000000000002,4789,Xóm A,Hộ A,2,1,0,1,2020-08-15\n"
    report = import_rows(camp, user, read_rows(camp, "a.csv", io.BytesIO((head + row + row).encode())))
    assert (report.created, report.unchanged, report.errors) == (1, 1, [])


def test_rows_waiting_across_communes_are_stored_early_past_the_limit(camp, monkeypatch):
    """A file spread over communes, none reaching a batch: the commune with the most rows
    waiting goes first once WAITING rows wait; every row is stored, a repeat still recognised."""
    monkeypatch.setattr(imports, "WAITING", 100)
    user = camp.users.load("department")
    real, sizes = camp.households.bulk_insert, []

    def counting(commune, records):
        sizes.append(len(records))
        return real(commune, records)
    monkeypatch.setattr(camp.households, "bulk_insert", counting)
    data = paper_csv(1000, (4789, 4792, 4795, 4798))
    report = import_rows(camp, user, read_rows(camp, "ho.csv", io.BytesIO(data)))
    assert report.created == 1000 and not report.errors
    assert len(sizes) > 20 and max(sizes) <= 101 and sum(sizes) == 1000  # 4 batches of 250 without the limit
    again = import_rows(camp, user, read_rows(camp, "ho.csv", io.BytesIO(data)))
    assert (again.created, again.unchanged, again.errors) == (0, 1000, [])
    assert camp.households.count([4789, 4792, 4795, 4798]) == 1000


def _rss_mb() -> float:
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    return int(status["VmRSS"].split()[0]) / 1024


def test_a_job_hands_the_memory_it_freed_back_to_the_system():
    """What a thread frees stays in its malloc arena (a worker carried an import's peak into
    later requests) until the job gives it back."""
    kept = []

    def churn():
        held = [bytes(2000) + bytes([n % 256]) for n in range(60_000)]  # ~120 MB in malloc, not pymalloc
        kept.extend(held[::7])  # what outlives the job (claims, tallies) pins the arena's top
        held.clear()
    worker = threading.Thread(target=churn)
    worker.start()
    worker.join()
    before = _rss_mb()
    give_back(collect=True)
    assert _rss_mb() < before - 40, (before, _rss_mb())
    assert len(kept) == 8572
