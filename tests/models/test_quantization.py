from __future__ import annotations

import numpy as np
import pytest

from colbert_retrieval.models import quantize


def test_int8_and_uint8_fixed_calibration_is_batch_independent() -> None:
    a = np.array([[1.0, -1.0, 0.5]], dtype=np.float32)
    b = np.array([[0.1, 0.2, 0.3]], dtype=np.float32)
    together = quantize([a, b], "int8")
    alone = quantize([a], "int8")
    np.testing.assert_array_equal(together[0], alone[0])
    assert together[0].dtype == np.int8
    assert together[0].tolist() == [[127, -127, 64]]
    assert quantize([a], "uint8")[0].tolist() == [[255, 0, 191]]


def test_unnormalised_uses_call_range() -> None:
    a = np.array([[10.0], [-10.0], [0.0]], dtype=np.float32)
    assert quantize([a], "uint8", unit_norm=False)[0].ravel().tolist() == [255, 0, 128]


def test_binary_packs_sign_bits() -> None:
    x = np.array([[1, -1, 1, -1, 1, -1, 1, -1, 1]], dtype=np.float32)
    ub = quantize([x], "ubinary")[0]
    assert ub.dtype == np.uint8 and ub.shape == (1, 2)
    assert ub.tolist() == [[0b10101010, 0b10000000]]
    b = quantize([x], "binary")[0]
    assert b.dtype == np.int8 and b.tolist() == [[0b10101010 - 128, 0]]


def test_unknown_precision() -> None:
    with pytest.raises(ValueError, match="float32, int8"):
        quantize([np.ones((1, 2))], "float16")
