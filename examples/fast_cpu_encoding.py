"""Fast CPU encoding: the automatic precision, the ONNX Runtime and OpenVINO backends, int8, short calls.

    pip install "colbert-retrieval[onnx,openvino]"
    python examples/fast_cpu_encoding.py

The first ONNX / OpenVINO load exports the transformer (a few seconds) into a cache keyed by the weights;
later loads reuse it.
"""

from __future__ import annotations

import tempfile

from colbert_retrieval import default_model
from colbert_retrieval.pylate import rank
from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS

# 1. The default: bf16 autocast where the CPU computes bf16 natively, float32 elsewhere. The choice is in repr.
model = default_model()
print(model.resolved_inference_precision())  # e.g. "bfloat16 (auto: native bf16 on this CPU)"

# 2. Exactly PyLate's numbers (float32 everywhere):
exact = default_model(inference_precision="float32")

with tempfile.TemporaryDirectory() as exports:
    # 3. ONNX Runtime (torch only to export once), float32 or dynamic int8.
    onnx = default_model(backend="onnx", backend_options={"export_dir": exports})

    # 4. OpenVINO static int8, calibrated on documents like yours (use a few hundred of your corpus's texts).
    openvino = default_model(
        backend="openvino", inference_precision="int8", backend_options={"calibration_texts": SAMPLE_TEXTS * 20}
    )

    for name, encoder in (("auto", model), ("float32", exact), ("onnx", onnx), ("openvino int8", openvino)):
        documents = encoder.encode(SAMPLE_TEXTS, is_query=False, pool_factor=2)
        query = encoder.encode(SAMPLE_QUERY, is_query=True)
        best = rank.rerank(
            documents_ids=[list(range(len(SAMPLE_TEXTS)))],
            queries_embeddings=[query],
            documents_embeddings=[documents],
        )[0][0]
        print(f"{name:>14}: best document {best['id']} ({SAMPLE_TEXTS[best['id']][:50]}...)")

# 5. Short calls (a query, a few texts): their own runtime and thread budget, so a busy machine or concurrent
#    searches do not stall them. See what this model does, then change it per model (or per process with
#    COLBERT_RETRIEVAL_SHORT_INPUTS="runtime=torch,threads=1").
print(model.resolved_short_path())  # e.g. "onnx float32, 1 thread, calls up to 256 tokens (auto: ONNX Runtime)"
model.short_inputs = {"threads": 2}  # spare cores and one request at a time
model.short_inputs = "runtime=off"  # short calls take the same path as long ones
assert model.resolved_short_path() is None
model.short_inputs = None  # back to the default (or the environment variable)
