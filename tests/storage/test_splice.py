"""Compaction by splicing: the snapshot's bytes plus the log's new records, the same result as decoding.

Each case builds one commune with the campaign's real kept summaries (hamlets, search index,
activity), copies the households directory, compacts one copy the splicing way and the other
by decoding, and compares the snapshots, id files and tallies they leave.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from survey.demo import households_for
from survey.storage import TinyDBHouseholds, logged, splice
from survey.storage.files import read_revision


def _campaign_records(camp, n: int, seed: int) -> tuple[int, list[dict]]:
    """(a commune, ``n`` of its records as the demo makes them), server fields included."""
    for code, records in households_for(camp.gazetteer, n * 40, seed):
        if len(records) >= n:
            return code, records[:n]
    raise AssertionError("the demo made no commune large enough")


def _twin(camp, where: Path) -> TinyDBHouseholds:
    """A second store on a copy of the households directory, keeping the same summaries."""
    shutil.copytree(camp.data_dir / "households", where / "households")
    other = TinyDBHouseholds(where)
    for name, kept in camp.households.backend._tallies.kinds.items():
        other.keep_summary(name, kept)
    return other


def _decoding(monkeypatch) -> None:
    monkeypatch.setattr(splice, "compact_spliced", lambda shard, raw, extend: False)


def _state(backend: TinyDBHouseholds, code: int) -> dict:
    """What a compaction leaves, revision aside: the snapshot's bytes, id hashes and tallies."""
    shard = backend.shard(code)
    rev = read_revision(shard.path)
    raw = shard.path.read_bytes()
    tallies = {}
    for path in sorted(backend.root.glob(f"{code}.*.tally")):
        kept = orjson.loads(path.read_bytes())
        assert kept["rev"] == rev, f"{path.name} is not of the new snapshot"
        tallies[path.name] = kept["tally"]
    ids = shard.ids_path.read_bytes()
    assert ids[4:20] == rev.encode()
    return {"snapshot": raw.replace(rev.encode(), b"REV", 1), "ids": ids[20:], "tallies": tallies,
            "log": shard.log_path.exists()}


def _compact_both(camp, tmp_path, monkeypatch, code: int, spliced: bool) -> tuple[dict, dict]:
    """Compact the campaign's commune by splicing (or trying to) and a copy by decoding."""
    twin = _twin(camp, tmp_path / "twin")
    calls = []
    real = logged.LoggedCollection._compact_decoding
    monkeypatch.setattr(logged.LoggedCollection, "_compact_decoding",
                        lambda shard, raw: calls.append(1) or real(shard, raw))
    camp.households.backend.shard(code).compact()
    assert (calls == []) is spliced
    _decoding(monkeypatch)
    twin.shard(code).compact()
    return _state(camp.households.backend, code), _state(twin, code)


def _filled(camp, n: int = 120, logged_n: int = 60) -> tuple[int, list[dict], list[dict]]:
    """A commune whose snapshot holds ``n`` records and whose log adds ``logged_n``."""
    code, records = _campaign_records(camp, n + logged_n, seed=7)
    backend = camp.households.backend
    backend.bulk_insert(code, records[:n])  # the first records make the snapshot
    backend.bulk_insert(code, records[n:])  # then the log
    assert backend.shard(code).log_path.exists()
    return code, records[:n], records[n:]


def test_records_added_by_the_log_are_spliced_as_decoding_would_write_them(camp, tmp_path, monkeypatch):
    code, old, new = _filled(camp)
    mine, theirs = _compact_both(camp, tmp_path, monkeypatch, code, spliced=True)
    assert mine == theirs and not mine["log"]
    docs = camp.households.backend.shard(code).documents()
    assert list(docs) == [r["id"] for r in old + new]
    fresh = TinyDBHouseholds(camp.data_dir)  # a cold worker reads the spliced files
    assert [r["id"] for r in fresh.scan(code)] == list(docs)


def test_a_torn_last_line_is_left_out_of_the_splice(camp, tmp_path, monkeypatch):
    code, old, new = _filled(camp)
    with open(camp.households.backend.shard(code).log_path, "ab") as fh:
        fh.write(b'["put","torn",{"commune_code":')
    mine, theirs = _compact_both(camp, tmp_path, monkeypatch, code, spliced=True)
    assert mine == theirs
    assert "torn" not in camp.households.backend.shard(code).documents()


@pytest.mark.parametrize("change", ["update", "delete", "twice"])
def test_a_log_that_changes_records_is_compacted_by_decoding(camp, tmp_path, monkeypatch, change):
    code, old, new = _filled(camp)
    shard = camp.households.backend.shard(code)
    with shard.appending() as log:
        if change == "update":
            log.put(old[3]["id"], {**old[3], "members": 9})
        elif change == "delete":
            log.delete(old[5]["id"])
        else:
            log.put(new[0]["id"], {**new[0], "members": 9})
    before = shard.path.read_bytes()
    assert splice.compact_spliced(shard, shard.log_path.read_bytes(), shard.on_extend) is False
    assert shard.path.read_bytes() == before and not list(shard.path.parent.glob(".*.tmp"))
    mine, theirs = _compact_both(camp, tmp_path, monkeypatch, code, spliced=False)
    assert mine == theirs


def test_a_log_of_another_snapshot_is_dropped_without_writing(camp, tmp_path, monkeypatch):
    code, old, new = _filled(camp)
    shard = camp.households.backend.shard(code)
    shard.log_path.write_bytes(b'{"base":"00000000000000ff"}\n' + orjson.dumps(["put", "x", {"a": 1}]) + b"\n")
    before = shard.path.read_bytes()
    shard.compact()
    assert shard.path.read_bytes() == before and not shard.log_path.exists()
    assert list(shard.documents()) == [r["id"] for r in old]


@pytest.mark.parametrize("spoil", ["ids", "tally", "layout"])
def test_a_missing_side_file_or_another_layout_is_compacted_by_decoding(camp, tmp_path, monkeypatch, spoil):
    code, old, new = _filled(camp)
    backend = camp.households.backend
    shard = backend.shard(code)
    if spoil == "ids":
        shard.ids_path.unlink()
    elif spoil == "tally":
        next(backend.root.glob(f"{code}.*.tally")).write_bytes(b'{"rev":"0000000000000000"}')
    else:  # the same records, indented: readable, but not the layout splicing relies on
        shard.path.write_bytes(orjson.dumps(orjson.loads(shard.path.read_bytes()), option=orjson.OPT_INDENT_2))
    mine, theirs = _compact_both(camp, tmp_path, monkeypatch, code, spliced=False)
    assert mine == theirs


def test_records_are_spliced_into_an_empty_snapshot(camp, tmp_path, monkeypatch):
    code, records = _campaign_records(camp, 30, seed=3)
    backend = camp.households.backend
    shard = backend.shard(code)
    shard.compact()  # nothing yet: appending stamps an empty snapshot
    with shard.appending() as log:
        assert shard.path.read_bytes().endswith(b'"households":{}}')
        for r in records:
            log.put(r["id"], r)
    shard.write_ids()
    for name, kept in backend._tallies.kinds.items():  # the tallies of the empty snapshot
        backend._tallies._kept(code, name, read_revision(shard.path), kept.tally([]))
    mine, theirs = _compact_both(camp, tmp_path, monkeypatch, code, spliced=True)
    assert mine == theirs
    assert list(orjson.loads(shard.path.read_bytes())["households"]) == [r["id"] for r in records]


def test_a_long_log_is_spliced_a_chunk_at_a_time(camp, tmp_path, monkeypatch):
    monkeypatch.setattr(splice, "CHUNK_LINES", 7)
    code, old, new = _filled(camp, n=50, logged_n=100)
    mine, theirs = _compact_both(camp, tmp_path, monkeypatch, code, spliced=True)
    assert mine == theirs


def test_a_failed_splice_leaves_the_old_snapshot_and_the_whole_log(camp, monkeypatch):
    code, old, new = _filled(camp)
    shard = camp.households.backend.shard(code)
    before, log = shard.path.read_bytes(), shard.log_path.read_bytes()
    added = []

    class Broken:
        def add(self, records):
            added.extend(records)
            if len(added) > 20:
                raise OSError(28, "No space left on device")

        def write(self, rev):
            raise AssertionError("not reached")
    monkeypatch.setattr(splice, "CHUNK_LINES", 10)
    with pytest.raises(splice.StorageUnavailable):
        splice.compact_spliced(shard, log, lambda s, rev: Broken())
    assert shard.path.read_bytes() == before and shard.log_path.read_bytes() == log
    assert not list(shard.path.parent.glob(".*.tmp"))
    assert list(shard.documents()) == [r["id"] for r in old + new]
