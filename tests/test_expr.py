"""The safe expression language: numpy/pandas semantics, and nothing beyond the whitelist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from eoaccess.errors import InvalidInputError
from eoaccess.expr import compile_expression


def test_band_math_over_arrays_is_nan_aware() -> None:
    green = np.array([100.0, 200.0, np.nan, 0.0])
    nir = np.array([300.0, 100.0, 50.0, 0.0])
    ndwi = compile_expression("(green - nir) / (green + nir)")
    assert ndwi.names == {"green", "nir"}
    out = ndwi({"green": green, "nir": nir})
    np.testing.assert_allclose(out[:2], [-0.5, 1 / 3])
    assert np.isnan(out[2]) and np.isnan(out[3])  # nan input and 0/0 give nan, no warning
    clipped = compile_expression("clip(where(nir > 150, nir, 0), 0, 250)")({"nir": nir})
    np.testing.assert_array_equal(clipped, [250, 0, 0, 0])
    assert compile_expression("maximum(green, nir)")({"green": green, "nir": nir})[2] == 50.0


def test_filters_over_columns() -> None:
    frame = pd.DataFrame(
        {
            "incidence_angle": [50.0, 75.0, 62.6, None],
            "eo:cloud_cover": [5, 50, 10, 0],
            "platform": ["a", "b", "c", "a"],
        }
    )
    where = compile_expression("incidence_angle < 70 and `eo:cloud_cover` <= 10")
    assert where.names == {"incidence_angle", "eo:cloud_cover"}
    assert where(frame).tolist() == [True, False, True, False]
    assert compile_expression("platform in ['a', 'c']")(frame).tolist() == [True, False, True, True]
    assert compile_expression("platform not in ['a']")(frame).tolist() == [False, True, True, False]
    assert compile_expression("40 < incidence_angle <= 62.6")(frame).tolist() == [
        True,
        False,
        True,
        False,
    ]
    assert compile_expression("isnull(incidence_angle) or not incidence_angle > 60")(
        frame
    ).tolist() == [True, False, False, True]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("__import__('os').system('true')", "Call is not allowed"),
        ("__import__('os')", "function '__import__' is not allowed"),
        ("green.__class__", "Attribute is not allowed"),
        ("green[0]", "Subscript is not allowed"),
        ("[x for x in green]", "ListComp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("green +", "invalid expression"),
        ("", "empty expression"),
        ("open('/etc/passwd')", "function 'open' is not allowed"),
        ("green is None", "comparison Is is not allowed"),
    ],
)
def test_rejected_expressions(source: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        compile_expression(source)


def test_unknown_names_are_reported_with_the_available_ones() -> None:
    expression = compile_expression("red + blue")
    with pytest.raises(InvalidInputError, match=r"unknown name\(s\) blue; available: green, red"):
        expression({"red": 1, "green": 2})
