"""Storage presets: their settings in both backends, and search that rescores quantized vectors with originals."""

from __future__ import annotations

import numpy as np
import pytest
import qdrant_edge as qe
from qdrant_client import models as qm

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant import IndexSettings, StoragePreset
from colbert_retrieval.qdrant._schema import StorageOptions
from colbert_retrieval.qdrant._storage import storage_preset
from colbert_retrieval.qdrant.backends import Candidates, QueryPlan
from colbert_retrieval.qdrant.backends import _edge as edge
from colbert_retrieval.qdrant.backends import _server as server
from conftest import OpenIndex

SETTINGS = IndexSettings(model_name="m", dim=8)
_VOCAB = "vitamin scurvy disease lack cancer cholesterol heart blood diet paris france capital city river statins risk"
#: 60 distinct short texts from the tiny model's vocabulary (random word triples, seeded).
TEXTS = [" ".join(np.random.default_rng(i).choice(_VOCAB.split(), 3, replace=False)) for i in range(60)]


def test_presets_map_to_quantization_placement_and_rescoring() -> None:
    fast, fast_search = storage_preset("fast")
    assert (fast.on_disk, fast.quantization, fast.first_stage_quantization) == (None, None, "int8")
    assert fast_search == {"rescore_oversampling": None, "first_stage_oversampling": None}
    balanced, search = storage_preset(StoragePreset.BALANCED)
    assert balanced.on_disk and isinstance(balanced.quantization, qm.ScalarQuantization)
    assert search["rescore_oversampling"] >= 1 and search["first_stage_oversampling"] is None
    small, search = storage_preset("small")
    assert small.on_disk and isinstance(small.quantization, qm.BinaryQuantization)
    assert small.first_stage_quantization == "binary" and search["first_stage_oversampling"] >= 1
    # explicit settings win over the preset's; an explicit quantization turns the preset's rescoring off
    assert storage_preset("small", on_disk=False)[0].on_disk is False
    assert storage_preset("small", first_stage_int8=True)[0].first_stage_quantization == "int8"
    assert (
        storage_preset("small", quantization=qm.ScalarQuantization(scalar=qm.ScalarQuantizationConfig(type="int8")))[1][
            "rescore_oversampling"
        ]
        is None
    )
    with pytest.raises(InvalidArgumentError, match="'fast', 'balanced', 'small'"):
        storage_preset("tiny")
    with pytest.raises(InvalidArgumentError, match="first_stage_quantization"):
        StorageOptions(first_stage_quantization="int4")


def test_small_preset_in_both_backends_keeps_quantized_copies_in_ram_and_originals_on_disk() -> None:
    options = storage_preset("small")[0]
    config = edge.edge_config(SETTINGS, options)
    colbert, first = config.vectors["colbert"], config.vectors["first_stage"]
    assert isinstance(colbert.quantization_config, qe.BinaryQuantizationConfig)
    assert colbert.memory == qe.Memory.Cold and first.memory == qe.Memory.Cold
    assert isinstance(first.quantization_config, qe.BinaryQuantizationConfig)
    vectors = server.vectors_config(SETTINGS, options)
    assert vectors["colbert"].on_disk and isinstance(vectors["colbert"].quantization_config, qm.BinaryQuantization)
    first_stage = vectors["first_stage"]
    assert first_stage.on_disk and isinstance(first_stage.quantization_config, qm.BinaryQuantization)
    assert vectors["colbert"].quantization_config.binary.always_ram


def test_rerank_ignores_a_quantized_copy_unless_told_to_oversample() -> None:
    candidates = (Candidates("first_stage", np.ones(4), 10),)
    plain = QueryPlan("colbert", np.ones((2, 4)), 5, candidates)
    oversampled = QueryPlan("colbert", np.ones((2, 4)), 5, candidates, oversampling=3.0)
    for translate in (edge._params, server._params):  # the decision is the plan's; each engine's type says the same
        assert translate(plain.params()).quantization.ignore is True
        params = translate(oversampled.params()).quantization
        assert (params.rescore, params.oversampling) == (True, 3.0)
        assert translate(QueryPlan("bm25", np.ones(4), 5).params()) is None  # no candidates: the engine's own search
        assert translate(QueryPlan("colbert", np.ones((2, 4)), 5, exact=True).params()).exact is True
    first = Candidates("first_stage", np.ones(4), 10, rescore=True, oversampling=8.0)
    assert edge.EdgeBackend._prefetch(None, first, None).params.quantization.oversampling == 8.0
    assert server._prefetch(first, None).params.quantization.oversampling == 8.0
    assert Candidates("first_stage", np.ones(4), 10).params() is None  # the engine's defaults


@pytest.mark.parametrize("preset", ["balanced", "small"])
def test_quantized_presets_rank_by_the_original_vectors(open_index: OpenIndex, preset: str) -> None:
    reference = open_index("reference", search={"exact_below": 0})
    reference.add([{"id": i, "text": t} for i, t in enumerate(TEXTS)])
    index = open_index(preset, storage=preset, search={"exact_below": 0, "rescore_oversampling": 100.0})
    index.add([{"id": i, "text": t} for i, t in enumerate(TEXTS)])
    assert index.search_config.first_stage_oversampling == (8.0 if preset == "small" else None)
    for query in ("vitamin scurvy", "paris france river"):
        exact = reference.search(query, k=5, config={"mode": "exact"})
        found = index.search(query, k=5, config={"mode": "colbert", "prefetch_limit": len(TEXTS)})
        # every candidate rescored with the float16 originals: the exact order and MaxSim scores
        assert [h.id for h in found] == [h.id for h in exact]
        np.testing.assert_allclose([h.score for h in found], [h.score for h in exact], rtol=1e-3, atol=1e-3)


def test_cli_storage_preset_builds_a_small_collection(tmp_path, capsys) -> None:
    from colbert_retrieval.cli import main
    from colbert_retrieval.qdrant.backends import EdgeBackend

    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "s", "text": "Scurvy comes from a lack of vitamin C."}\n{"id": "p", "text": "Paris."}\n')
    store = str(tmp_path / "store")
    assert main(["index", str(docs), "--path", store, "--storage", "small"]) == 0
    backend = EdgeBackend(store, "colbert")
    try:
        assert backend.count() == 2
    finally:
        backend.close()
    capsys.readouterr()
    assert main(["search", "vitamin C deficiency", "--path", store, "--storage", "small", "-k", "1", "--json"]) == 0
    assert '"id": "s"' in capsys.readouterr().out


def test_one_rule_for_a_search_config_in_the_constructor_and_every_call(open_index: OpenIndex, monkeypatch) -> None:
    """A SearchConfig's unset (None) fields keep the index's: the preset's rescoring survives a per-call config."""
    from colbert_retrieval.qdrant import SearchConfig, _searcher

    index = open_index("small", storage="small", search=SearchConfig(prefetch_limit=40))
    index.add([{"id": i, "text": t} for i, t in enumerate(TEXTS)])
    preset = index.search_config
    assert preset.prefetch_limit == 40  # the constructor: the given field over the preset's
    assert preset.rescore_oversampling is not None and preset.first_stage_oversampling == 8.0  # the preset's kept
    chosen: list[SearchConfig] = []
    real = _searcher.call_config
    monkeypatch.setattr(_searcher, "call_config", lambda d, c: chosen.append(real(d, c)[0]) or real(d, c))
    as_config = index.search("vitamin scurvy", k=3, config=SearchConfig(mode="colbert", prefetch_limit=40))
    as_dict = index.search("vitamin scurvy", k=3, config={"mode": "colbert"})
    # a dict overrides what it names; a SearchConfig every field it sets (prefetch_limit's default included),
    # and its None fields (the rescoring) keep the index's, as in the constructor
    assert chosen[1] == preset.override(mode="colbert")
    assert chosen[0] == SearchConfig(mode="colbert", prefetch_limit=40).override(
        rescore_oversampling=preset.rescore_oversampling, first_stage_oversampling=preset.first_stage_oversampling
    )
    assert chosen[0] == chosen[1]  # here the two name the same settings (the adapters' tests compare hits)
    assert len(as_config) == len(as_dict) == 3
    assert index.search_config == preset  # a call changes nothing
