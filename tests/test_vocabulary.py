"""The compact term lookup and the compact postings agree with plain Python structures."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from index.bm25 import build_segment
from index.vocabulary import SORTED_FILES, TermIds, write_sorted


def test_sorted_lookup_answers_as_a_dict(tmp_path: Path) -> None:
    rng = random.Random(7)
    alphabet = "垃圾分类社区天山路街道abcXYZ0123é😀"
    terms = sorted({"".join(rng.choices(alphabet, k=rng.randint(1, 6))) for _ in range(3000)})
    rng.shuffle(terms)  # ids are build order, not sorted order
    write_sorted(terms, files(tmp_path))
    lookup = TermIds.open(files(tmp_path))
    expected = {term: number for number, term in enumerate(terms)}
    assert len(lookup) == len(expected)
    assert dict(lookup.items()) == expected
    for term, number in expected.items():
        assert lookup[term] == number and lookup.get(term) == number and term in lookup
    for missing in ("", "不在词表里的词", "zzzz", "垃圾分类社区天山路街道abc"):
        if missing in expected:
            continue
        assert missing not in lookup and lookup.get(missing) is None
        with pytest.raises(KeyError):
            lookup[missing]
    assert 3 not in lookup
    prefixes = {term[:n] for term in terms for n in range(len(term) + 1)}
    probes = prefixes | {"垃圾分类社区天山路街道abc", "😀😀😀😀😀😀😀", "z"} | {p + "é" for p in list(prefixes)[:500]}
    for probe in probes:
        assert lookup.has_prefix(probe) == (probe in prefixes), probe


def test_an_empty_vocabulary(tmp_path: Path) -> None:
    write_sorted([], files(tmp_path))
    lookup = TermIds.open(files(tmp_path))
    assert len(lookup) == 0 and "词" not in lookup and list(lookup) == []
    assert not lookup.has_prefix("") and not lookup.has_prefix("词")


def test_files_that_do_not_fit_together_are_refused(tmp_path: Path) -> None:
    write_sorted(["社区", "街道"], files(tmp_path))
    (tmp_path / "vocab-sorted.bin").write_bytes("社区".encode())
    with pytest.raises(ValueError):
        TermIds.open(files(tmp_path))


def files(directory: Path) -> dict[str, Path]:
    return {name: directory / name for name in SORTED_FILES}


def bags(rng: random.Random, n_docs: int, n_terms: int, top_tf: int) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for _ in range(n_docs):
        terms = np.array(sorted(rng.sample(range(n_terms), rng.randint(1, 12))), dtype=np.int32)
        out.append((terms, np.array([rng.randint(1, top_tf) for _ in terms], dtype=np.int32)))
    return out


@pytest.mark.parametrize(("top_tf", "dtype"), [(200, np.uint8), (3000, np.uint16), (70_000, np.int32)])
def test_frequencies_take_the_smallest_type_that_holds_them(top_tf: int, dtype: type) -> None:
    documents = bags(random.Random(top_tf), 300, 50, top_tf)
    documents[0][1][0] = top_tf  # the largest frequency decides the type
    segment = build_segment(documents, 0)
    assert segment.tfs.dtype == dtype and segment.fwd_tfs.dtype == dtype
    for doc, (terms, tfs) in enumerate(documents):
        got_terms, got_tfs = segment.bag(doc)
        assert got_terms.tolist() == terms.tolist() and got_tfs.tolist() == tfs.tolist()


def test_a_document_holds_a_term_exactly_when_its_bag_does() -> None:
    from index.bm25 import BM25Index, BM25Params

    rng = random.Random(3)
    documents = bags(rng, 200, 40, 5)
    index = BM25Index([build_segment(documents[:120], 0), build_segment(documents[120:], 120)], 41, BM25Params())
    for doc, (terms, _) in enumerate(documents):
        held = set(terms.tolist())
        for term in range(41):
            assert index.doc_has_term(doc, term) == (term in held)


def test_a_loaded_segment_scores_from_disk_as_the_built_one(tmp_path: Path) -> None:
    from index.bm25 import BM25Index, BM25Params, Segment

    documents = bags(random.Random(11), 400, 60, 9)
    built = build_segment(documents, 0)
    built.save(tmp_path)
    loaded = Segment.load(tmp_path, 0)
    assert loaded.disk_docs is not None and loaded.disk_tfs is not None
    for term in range(60):
        found = loaded.postings_range(term)
        if found is None:
            continue
        assert loaded.disk_docs.read(*found).tolist() == loaded.docs[found[0] : found[1]].tolist()
        assert loaded.disk_tfs.read(*found).tolist() == loaded.tfs[found[0] : found[1]].tolist()
    with pytest.raises(IndexError):
        loaded.disk_docs.read(0, loaded.docs.shape[0] + 1)
    queries = [[3, 7, 7, 12], [0], [59, 1, 30]]
    on_disk, in_memory = BM25Index([loaded], 60, BM25Params()), BM25Index([built], 60, BM25Params())
    for query in queries:
        assert on_disk.scores(query).tolist() == in_memory.scores(query).tolist()
    loaded.close()
    assert loaded.disk_docs is None


@pytest.mark.parametrize("n_known", [0, 1, 500])
def test_extending_the_sorted_lookup_writes_what_sorting_it_all_would(tmp_path: Path, n_known: int) -> None:
    rng = random.Random(n_known)
    alphabet = "ab中文街道社区😀é0"
    words = list(dict.fromkeys("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(900)))
    known, added = words[:n_known], words[n_known : n_known + 200]
    # Before, after and between the known terms, and terms that extend a known one.
    added += [t for t in ("", "\x00", "\U0010ffff", *(k + "末" for k in known[:5])) if t not in words]
    old = {name: tmp_path / "old" / name for name in SORTED_FILES}
    new = {name: tmp_path / "new" / name for name in SORTED_FILES}
    whole = {name: tmp_path / "whole" / name for name in SORTED_FILES}
    for paths in (old, new, whole):
        next(iter(paths.values())).parent.mkdir()
    write_sorted(known, old)
    TermIds.open(old).write_extended(added, len(known), new)
    write_sorted(known + added, whole)
    for name in SORTED_FILES:
        assert new[name].read_bytes() == whole[name].read_bytes(), name
    extended = TermIds.open(new)
    assert all(extended[term] == number for number, term in enumerate(known + added))


def test_extending_by_nothing_rewrites_the_same_lookup(tmp_path: Path) -> None:
    old = {name: tmp_path / f"old-{name}" for name in SORTED_FILES}
    new = {name: tmp_path / f"new-{name}" for name in SORTED_FILES}
    write_sorted(["街道", "社区"], old)
    TermIds.open(old).write_extended([], 2, new)
    assert all(old[name].read_bytes() == new[name].read_bytes() for name in SORTED_FILES)
