"""The id claims a worker keeps: compact, exact across merges, the latest claim winning."""

from __future__ import annotations

import uuid

from survey.storage.claims import Owners


def test_owners_answer_every_id_across_merges_and_the_latest_claim_wins():
    owners = Owners()
    ids = [str(uuid.uuid4()) for _ in range(3 * Owners.MERGE_AT + 17)]
    for n, key in enumerate(ids):
        owners.set(key, 4789 + n % 7)
    assert len(owners.hashes) == 3 * Owners.MERGE_AT and len(owners.recent) == 17  # merged as it grew
    assert all(owners.get(key) == 4789 + n % 7 for n, key in enumerate(ids))
    owners.set(ids[0], 4831)  # a move: the newer claim replaces the merged one
    for _ in range(Owners.MERGE_AT):
        owners.set(str(uuid.uuid4()), 4792)
    assert owners.get(ids[0]) == 4831 and owners.get(ids[1]) == 4790
    assert owners.get(str(uuid.uuid4())) is None


def test_a_million_claims_fit_in_a_few_megabytes():
    owners = Owners()
    for _ in range(20 * Owners.MERGE_AT):
        owners.set(str(uuid.uuid4()), 4789)
    per_id = (owners.hashes.nbytes + owners.communes.nbytes) / len(owners.hashes)
    assert per_id == 12  # 8-byte hash and 4-byte commune: ~12 MB for 1,000,000 ids
