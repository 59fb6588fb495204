"""The document-store contract: every implementation (TinyDB files, PostgreSQL) passes the same tests.

``space_spec`` (tests/storage/conftest.py) names one empty document space per test and per
backend; ``open_space`` opens it, in this process or in another one.
"""

from __future__ import annotations

import multiprocessing

import pytest

from survey.storage.documents import copy_documents

from .conftest import open_space


def test_put_get_documents_and_delete(space_spec):
    coll = open_space(space_spec).collection("users", "users")
    assert coll.get("a") is None and coll.documents() == {}
    coll.put("a", {"n": 1, "name": "Bùi Thị Hoà"})
    coll.put("b", {"n": 2})
    assert coll.get("a") == {"n": 1, "name": "Bùi Thị Hoà"}
    assert coll.documents() == {"a": {"n": 1, "name": "Bùi Thị Hoà"}, "b": {"n": 2}}
    coll.put("a", {"n": 3})
    assert coll.get("a") == {"n": 3}
    assert coll.delete("a") is True
    assert coll.delete("a") is False
    assert coll.documents() == {"b": {"n": 2}}


def test_collections_are_apart(space_spec):
    space = open_space(space_spec)
    space.collection("users", "users").put("k", {"which": "users"})
    space.collection("tokens", "tokens").put("k", {"which": "tokens"})
    assert space.collection("users", "users").get("k") == {"which": "users"}
    assert space.collection("tokens", "tokens").documents() == {"k": {"which": "tokens"}}


def test_a_copy_changed_by_the_caller_changes_nothing_stored(space_spec):
    coll = open_space(space_spec).collection("settings", "settings")
    coll.put("campaign", {"target_pct": 50})
    doc = coll.get("campaign")
    doc["target_pct"] = 99
    with coll.update() as docs:
        inside = docs.get("campaign")
        inside["target_pct"] = 98
    assert coll.get("campaign") == {"target_pct": 50}


def test_update_sees_its_own_changes_and_stores_them_on_exit(space_spec):
    coll = open_space(space_spec).collection("attempts", "attempts")
    coll.put("old", {"times": [1]})
    with coll.update() as docs:
        assert "old" in docs and "new" not in docs
        docs.put("new", {"times": [2]})
        assert docs.get("new") == {"times": [2]}
        assert docs.remove("old") is True
        assert docs.remove("old") is False
        assert docs.all() == {"new": {"times": [2]}}
    assert coll.documents() == {"new": {"times": [2]}}


def test_an_update_that_raises_stores_nothing(space_spec):
    coll = open_space(space_spec).collection("users", "users")
    coll.put("a", {"n": 1})
    with pytest.raises(RuntimeError), coll.update() as docs:
        docs.put("a", {"n": 2})
        docs.put("b", {"n": 2})
        docs.remove("a")
        raise RuntimeError("refused half-way")
    assert coll.documents() == {"a": {"n": 1}}


def test_names_lists_the_collections_under_a_prefix(space_spec):
    space = open_space(space_spec)
    assert space.names("history/") == []
    for name in ("history/3f", "history/0a", "reviews/4789", "users"):
        space.collection(name, "t").put("k", {})
    assert space.names("history/") == ["history/0a", "history/3f"]
    assert space.names("reviews/") == ["reviews/4789"]
    assert [c.name for c in space.iter_collections("history/", "t")] == ["history/0a", "history/3f"]


def test_the_secret_key_is_made_once_and_shared(space_spec):
    first = open_space(space_spec).secret_key()
    assert len(first) >= 40
    assert open_space(space_spec).secret_key() == first


def test_an_adopted_secret_key_replaces_the_one_made_here(space_spec):
    made = open_space(space_spec).secret_key()
    open_space(space_spec).adopt_secret_key("k" * 64)
    assert open_space(space_spec).secret_key() == "k" * 64 != made


def _increment(spec, rounds: int) -> None:
    coll = open_space(spec).collection("counters", "counters")
    for _ in range(rounds):
        with coll.update() as docs:
            doc = docs.get("n") or {"value": 0, "seen": []}
            docs.put("n", {"value": doc["value"] + 1, "seen": [*doc["seen"], doc["value"]]})


def test_racing_read_modify_writes_from_several_processes_lose_nothing(space_spec):
    """Four processes increment one counter 25 times each: every increment counts once."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_increment, args=(space_spec, 25)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    doc = open_space(space_spec).collection("counters", "counters").get("n")
    assert doc["value"] == 100
    assert doc["seen"] == list(range(100))  # each writer saw the one before it


def test_copy_documents_makes_the_target_hold_every_collection_and_can_run_again(space_spec, tmp_path):
    """A copy from the data directory's files: every collection, nested names too, once."""
    source = open_space(("tinydb", str(tmp_path / "source")))
    source.collection("users", "users").put("officer", {"role": "officer", "unit": 4789})
    source.collection("history/3f", "versions").put("3f00", {"versions": [{"n": 1}]})
    source.collection("reviews/dismissed", "pairs").put("a,b", {"ids": ["a", "b"]})
    target = open_space(space_spec)
    target.collection("users", "users").put("kept", {"role": "district"})
    stores = [source.collection(n, t) for n, t in (("users", "users"), ("history/3f", "versions"),
                                                    ("reviews/dismissed", "pairs"))]
    assert copy_documents(stores, target) == 3
    assert target.collection("users", "users").documents() == {"kept": {"role": "district"},
                                                               "officer": {"role": "officer", "unit": 4789}}
    assert target.collection("history/3f", "versions").get("3f00") == {"versions": [{"n": 1}]}
    assert target.names("reviews/") == ["reviews/dismissed"]
    assert copy_documents(stores, target) == 0
