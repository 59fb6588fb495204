"""A commune read a piece at a time gives the records, in the order, that decoding it whole gives."""

from __future__ import annotations

import random
import uuid

import orjson
import pytest

from survey.storage import TinyDBHouseholds, changelog, streamed
from survey.storage.streamed import streamed_records


def _record(rng: random.Random, n: int) -> dict:
    """A record whose texts hold what a cut could be fooled by: braces, quotes, ``},"``."""
    name = rng.choice(['Hà Thị "Bé"', 'Bùi Văn },"x":{', "Đinh {Lâm}", "Xa Thị Mai\\", "Lò Văn},\""])
    return {"id": str(uuid.UUID(int=rng.getrandbits(128))), "commune_code": 4789, "head_name": name,
            "members": n % 9, "answers": {"nested": {"k": [1, {"x": "},\""}]}}, "reasons": ["a", "b"]}


@pytest.fixture
def backend(tmp_path, monkeypatch) -> TinyDBHouseholds:
    monkeypatch.setattr(streamed, "PIECE_BYTES", 700)  # a few records a piece: many cuts to get right
    return TinyDBHouseholds(tmp_path)


def _whole(backend: TinyDBHouseholds) -> list[dict]:
    return list(backend.shard(4789).documents(cache=False).values())


def test_a_snapshot_read_in_pieces_gives_every_record_in_order(backend):
    rng = random.Random(1)
    backend.bulk_insert(4789, [_record(rng, n) for n in range(200)])
    assert not backend.shard(4789).log_path.exists()
    assert list(backend.records([4789])) == _whole(backend) and len(_whole(backend)) == 200


@pytest.mark.parametrize("seed", range(6))
def test_logged_puts_and_deletes_come_out_as_decoding_applies_them(backend, seed):
    rng = random.Random(seed)
    first = [_record(rng, n) for n in range(60)]
    backend.bulk_insert(4789, first)
    ids, made = [r["id"] for r in first], []
    with backend.shard(4789).appending() as log:
        for n in range(80):
            pick = rng.random()
            if pick < 0.3 and (ids or made):
                log.delete(rng.choice(ids + made + ["never-stored"]))
            elif pick < 0.6 and (ids or made):
                key = rng.choice(ids + made)
                log.put(key, {**_record(rng, n), "id": key})
            else:
                made.append((r := _record(rng, n))["id"])
                log.put(r["id"], r)
    assert list(backend.records([4789])) == _whole(backend)


def test_applied_matches_apply_changes_on_random_logs():
    rng = random.Random(5)
    for _ in range(300):
        snapshot = {f"s{n}": {"n": n} for n in range(rng.randrange(6))}
        keys = [*snapshot, "a", "b", "c"]
        changes = [["put", k, {"v": rng.random()}] if rng.random() < 0.6 else ["del", k]
                   for k in (rng.choice(keys) for _ in range(rng.randrange(8)))]
        expected = list(changelog.apply_changes(dict(snapshot), changes).items())
        assert list(streamed.applied(snapshot.items(), changes)) == expected


def test_a_snapshot_of_another_layout_is_decoded_whole(backend):
    rng = random.Random(2)
    backend.bulk_insert(4789, [_record(rng, n) for n in range(20)])
    shard = backend.shard(4789)
    shard.path.write_bytes(orjson.dumps(orjson.loads(shard.path.read_bytes()), option=orjson.OPT_INDENT_2))
    assert list(streamed_records(shard)) == _whole(backend) and len(_whole(backend)) == 20


def test_a_damaged_snapshot_is_reported_not_cut_short(backend):
    rng = random.Random(3)
    backend.bulk_insert(4789, [_record(rng, n) for n in range(40)])
    shard = backend.shard(4789)
    raw = shard.path.read_bytes()
    shard.path.write_bytes(raw[:-60] + b"\x00" * 30 + raw[-30:])
    with pytest.raises(streamed.StorageUnavailable):
        list(streamed_records(shard))


def test_a_commune_without_a_file_has_no_records(backend):
    assert list(backend.records([4789])) == []
