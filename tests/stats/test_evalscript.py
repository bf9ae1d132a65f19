"""Evalscripts: setup() in V8, evaluatePixel in V8 or translated to numpy with equal results."""

from __future__ import annotations

import numpy as np
import pytest

from eoaccess.stats.evalscript import (
    EvalscriptError,
    EvalscriptExecutionError,
    EvalscriptLimits,
    EvalscriptTimeoutError,
    V8Pool,
    _translate,
    compile_evalscript,
    probe_samples,
    translate,
)
from tests.stats.archives import seed_evalscript

ARPS_BANDS = {"blue", "green", "red", "nir", "cloud_mask", "scene_mask"}


def script(body: str, inputs: str = '"green", "nir", "dataMask"', outputs: str = "") -> str:
    """An evalscript with a one-band FLOAT32 default output and a dataMask output."""
    declared = (
        outputs or '{id: "default", bands: 1, sampleType: "FLOAT32"}, {id: "dataMask", bands: 1}'
    )
    return f"""//VERSION=3
function setup() {{
  return {{input: [{{bands: [{inputs}]}}], output: [{declared}]}};
}}
function evaluatePixel(sample) {{
{body}
}}
"""


def samples_for(bands: tuple[str, ...], n: int = 5000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    out = probe_samples(bands, n)
    for name in bands:  # plus reflectance-like values and zeros, as ARPS tiles have
        if name != "dataMask":
            out[name] = np.where(rng.random(n) < 0.3, rng.integers(0, 4000, n), out[name])
    return out


def both_engines(source: str, bands: set[str] | None = None) -> tuple[object, object]:
    auto = compile_evalscript(source, bands or ARPS_BANDS)
    v8 = compile_evalscript(source, bands or ARPS_BANDS, engine="v8")
    return auto, v8


def assert_same(source: str) -> None:
    auto, v8 = both_engines(source)
    assert auto.engine == "numpy", auto.reason
    samples = samples_for(auto.script.inputs)
    first, second = auto.evaluate(samples, 5000), v8.evaluate(samples, 5000)
    np.testing.assert_array_equal(first.at, second.at)
    for key in first.values:
        np.testing.assert_array_equal(first.values[key], second.values[key])
    np.testing.assert_array_equal(first.mask, second.mask)


def test_the_seed_script_is_translated_and_equal_to_v8() -> None:
    source = seed_evalscript()
    auto, v8 = both_engines(source)
    assert auto.engine == "numpy" and v8.engine == "v8"
    assert auto.script.inputs == ("green", "nir", "cloud_mask", "scene_mask", "dataMask")
    assert [(o.id, o.bands, o.sample_type) for o in auto.outputs] == [
        ("default", ("B0",), "FLOAT32"),
        ("scenes", ("B0",), "INT16"),
    ]
    samples = samples_for(auto.script.inputs, 20_000)
    samples["cloud_mask"] = np.arange(20_000) % 3.0  # 0, 1, 2: clear only where 1
    first, second = auto.evaluate(samples, 20_000), v8.evaluate(samples, 20_000)
    assert first.values["default"].dtype == np.float32 and first.values["scenes"].dtype == np.int16
    np.testing.assert_array_equal(first.values["default"], second.values["default"])
    np.testing.assert_array_equal(first.values["scenes"], second.values["scenes"])
    np.testing.assert_array_equal(first.mask, second.mask)
    g, n = samples["green"], samples["nir"]
    with np.errstate(all="ignore"):
        expected = ((g - n) / (g + n)).astype(np.float32)
    counted = (samples["dataMask"] == 1) & (samples["cloud_mask"] == 1)
    np.testing.assert_array_equal(first.mask, counted)
    # Values come for the counted pixels only, in order.
    np.testing.assert_array_equal(first.at, np.flatnonzero(counted))
    np.testing.assert_array_equal(first.values["default"][0], expected[counted])


@pytest.mark.parametrize(
    "body",
    [
        "return {default: [sample.green > 1000 ? sample.green : -sample.nir], dataMask: [1]};",
        "var v = 0;\nif (sample.green > 2000) { v = 2 } else if (sample.green > 500) { v = 1 }\n"
        "else v = -1\nreturn {default: [v], dataMask: [sample.dataMask]}",
        "let a = sample.green && sample.nir; let b = sample.green || sample.nir;\n"
        "return {default: [a - b], dataMask: [1]}",
        "const same = (sample.green > 0) === 1; const loose = (sample.green > 0) == 1;\n"
        "return {default: [same + 2 * loose], dataMask: [true]}",
        "return {default: [sample.green % 7 - (-sample.nir) % 3], dataMask: [1]}",
        "return {default: [Math.round(sample.green / 100 - 0.5) + Math.round(-2.5)], dataMask: [1]}",
        "return {default: [Math.min(sample.green, sample.nir, NaN) + Math.max(sample.green, 5)],"
        " dataMask: [1]}",
        "return {default: [Math.pow(1, sample.green / 0 - Infinity) + 2 ** 3 ** 0.5], dataMask: [1]}",
        "var s = true + true; var t = !sample.green; s += t * 10; s *= 2;\n"
        "return {default: [s], dataMask: [!t]}",
        'return {default: [sample["green"] / 0x10 + Math.sqrt(Math.abs(sample.nir)) + Math.PI],'
        " dataMask: [1]}",
        "var x = 1;\nif (sample.green > 100) {\n  x = 2;\n  if (sample.nir > 100) { x = x * 3 }\n}\n"
        "return {default: [x], dataMask: [sample.dataMask == 1 && sample.green != 0]};",
        "return {default: [Math.log(sample.green) + Math.atan2(sample.nir, sample.green)],"
        " dataMask: [1]}",
    ],
)
def test_translated_scripts_equal_v8(body: str) -> None:
    assert_same(script(body))


def test_named_output_bands_and_integer_casts() -> None:
    outputs = (
        '{id: "indices", bands: ["ndwi", "scaled"], sampleType: "INT16"},'
        ' {id: "dataMask", bands: 1}'
    )
    body = "var n = (sample.green - sample.nir) / (sample.green + sample.nir);\n" \
           "return {indices: [n, sample.green * 100], dataMask: [sample.dataMask]};"  # fmt: skip
    source = script(body, outputs=outputs)
    assert_same(source)
    program = compile_evalscript(source, ARPS_BANDS)
    assert program.outputs[0].bands == ("ndwi", "scaled")
    samples = {
        "green": np.array([1.0, 2.5, 400.0, 0.0]),
        "nir": np.array([3.0, 2.5, 0.0, 0.0]),
        "dataMask": np.ones(4),
    }
    result = program.evaluate(samples, 4)
    # rounded half to even, clamped to int16, NaN (0/0) as 0
    np.testing.assert_array_equal(result.values["indices"][0], [0, 0, 1, 0])
    np.testing.assert_array_equal(result.values["indices"][1], [100, 250, 32767, 0])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("function helper(x) { return x * 2 }\n", None),  # placeholder replaced below
        ("for (var i = 0; i < 2; i++) {}\nreturn {default: [1], dataMask: [1]};", "statement"),
        (
            "if (sample.green > 0) { return {default: [1], dataMask: [1]}; }\n"
            "return {default: [0], dataMask: [1]};",
            "return inside",
        ),
        ("var x = 1; { let x = 2; }\nreturn {default: [x], dataMask: [1]};", "shadowing"),
        ("var s = 'a' + sample.green;\nreturn {default: [s.length], dataMask: [1]};", "unexpected"),
        ("return {default: [sample.blue], dataMask: [1]};", "not an input"),
    ],
)
def test_scripts_outside_the_subset_run_in_v8(body: str, reason: str | None) -> None:
    source = script(body)
    if reason is None:  # a helper function next to evaluatePixel
        source = source.replace(
            "function evaluatePixel", "function helper(x) { return x * 2 }\nfunction evaluatePixel"
        )
        source = source.replace(
            "\n\n}\n", "\nreturn {default: [helper(sample.green)], dataMask: [1]};\n}\n"
        )
        reason = "helper function"
    program = compile_evalscript(source, ARPS_BANDS)
    assert program.engine == "v8"
    assert reason in program.reason
    samples = samples_for(program.script.inputs, 300)
    result = program.evaluate(samples, 300)
    assert result.mask.shape == (300,)
    assert result.values["default"].shape == (1, int(result.mask.sum()))
    with pytest.raises(EvalscriptError, match="cannot run in numpy"):
        compile_evalscript(source, ARPS_BANDS, engine="numpy")


def test_v8_results_of_an_untranslated_script() -> None:
    body = "var total = 0;\nfor (var i = 1; i <= 3; i++) { total += sample.green * i; }\n" \
           "return {default: [total], dataMask: [sample.dataMask]};"  # fmt: skip
    program = compile_evalscript(script(body), ARPS_BANDS)
    assert program.engine == "v8"
    samples = {
        "green": np.array([1.0, 2.0, 0.5]),
        "nir": np.zeros(3),
        "dataMask": np.array([1.0, 0.0, 1.0]),
    }
    result = program.evaluate(samples, 3)
    np.testing.assert_array_equal(result.values["default"][0], np.float32([6.0, 3.0]))
    np.testing.assert_array_equal(result.mask, [True, False, True])
    np.testing.assert_array_equal(result.at, [0, 2])


def test_translation_is_checked_against_v8(monkeypatch: pytest.MonkeyPatch) -> None:
    # A wrong translation (subtraction for addition) must be caught by the probe, not used.
    monkeypatch.setitem(_translate._ARITHMETIC, "+", np.subtract)
    program = compile_evalscript(
        script("return {default: [sample.green + sample.nir], dataMask: [1]};"), ARPS_BANDS
    )
    assert program.engine == "v8"
    assert program.reason == "the numpy translation differs from V8 on probe pixels"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("function setup() {}", "VERSION=3"),
        ("//VERSION=2\nfunction setup() {}", "VERSION=3"),
        ("//VERSION=3\nfunction setup() {\n  return {;\n}", r"SyntaxError: .* \(line 3\)"),
        (
            "//VERSION=3\nfunction setup() { throw new Error('no bands'); }\nfunction evaluatePixel(s) {}",
            r"setup\(\) failed: Error: no bands",
        ),
        (
            "//VERSION=3\nfunction setup() { return {input: ['green'], output: {bands: 1}}; }",
            "define setup\\(\\) and evaluatePixel",
        ),
        (
            script("return {};").replace(', {id: "dataMask", bands: 1}', ""),
            "needs a dataMask output",
        ),
        (
            script("return {};", inputs='"green", "swir16"'),
            "unknown input band.*swir16.*blue, cloud_mask",
        ),
        (
            script("return {};").replace(
                "return {input", "return {mosaicking: Mosaicking.ORBIT, input"
            ),
            "mosaicking ORBIT is not supported",
        ),
        (script("return {};").replace('"FLOAT32"', '"FLOAT64"'), "sampleType 'FLOAT64'"),
        (script("return {};").replace("bands: 1, sample", "bands: 0, sample"), "1 to 64 bands"),
    ],
)
def test_bad_scripts_are_refused_with_a_clear_message(source: str, message: str) -> None:
    with pytest.raises(EvalscriptError, match=message):
        compile_evalscript(source, ARPS_BANDS)


def test_runtime_errors_carry_the_javascript_message() -> None:
    program = compile_evalscript(
        script("var o = undefined;\nreturn {default: [o.x], dataMask: [1]};"), ARPS_BANDS
    )
    samples = samples_for(program.script.inputs, 10)
    with pytest.raises(
        EvalscriptExecutionError,
        match=r"TypeError: Cannot read properties of undefined.*\(line 7\)",
    ):
        program.evaluate(samples, 10)
    wrong = compile_evalscript(script("return {default: [1, 2], dataMask: [1]};"), ARPS_BANDS)
    with pytest.raises(
        EvalscriptExecutionError, match="'default' has 2 values but setup\\(\\) declares 1"
    ):
        wrong.evaluate(samples, 10)
    missing = compile_evalscript(script("return {dataMask: [1]};"), ARPS_BANDS)
    with pytest.raises(EvalscriptExecutionError, match="returned no output 'default'"):
        missing.evaluate(samples, 10)


def test_time_and_memory_limits() -> None:
    limits = EvalscriptLimits(seconds=0.5, max_memory=64 << 20)
    endless = compile_evalscript(
        script("while (true) {}\nreturn {default: [1], dataMask: [1]};"), ARPS_BANDS, limits
    )
    samples = samples_for(endless.script.inputs, 10)
    with pytest.raises(EvalscriptTimeoutError, match="ran out of time"):
        endless.evaluate(samples, 10)
    greedy = compile_evalscript(
        script("var keep = [];\nwhile (true) { keep.push(new Array(100000).fill(1.5)); }\n"
               "return {default: [1], dataMask: [1]};"),
        ARPS_BANDS,
        limits,
    )  # fmt: skip
    with pytest.raises(EvalscriptExecutionError, match="memory limit"):
        greedy.evaluate(samples, 10)


def test_pool_keeps_one_warm_runner_per_thread_and_drops_failed_ones() -> None:
    program = compile_evalscript(script("return {default: [sample.green], dataMask: [1]};"),
                                 ARPS_BANDS, engine="v8")  # fmt: skip
    failing = compile_evalscript(
        script("if (sample.green > 1) { throw new Error('too green'); }\n"
               "return {default: [1], dataMask: [1]};"), ARPS_BANDS
    )  # fmt: skip
    pool = V8Pool()
    try:
        samples = {"green": np.array([0.0, 1.0]), "nir": np.zeros(2), "dataMask": np.ones(2)}
        program.evaluate(samples, 2, pool)
        runner = pool.get(program.script, program.limits)
        program.evaluate(samples, 2, pool)
        assert pool.get(program.script, program.limits) is runner
        failing.evaluate(samples, 2, pool)
        bad = {**samples, "green": np.array([5.0, 0.0])}
        with pytest.raises(EvalscriptExecutionError, match="Error: too green"):
            failing.evaluate(bad, 2, pool)
        assert pool.get(failing.script, failing.limits) is not runner
    finally:
        pool.close()


def test_chunks_cover_every_pixel() -> None:
    from eoaccess.stats.evalscript._v8 import V8Runner

    program = compile_evalscript(script("return {default: [sample.green * 2], dataMask: [1]};"),
                                 ARPS_BANDS, engine="v8")  # fmt: skip
    samples = {"green": np.arange(1000.0), "nir": np.zeros(1000), "dataMask": np.ones(1000)}
    with V8Runner(program.script, program.limits, chunk=64) as runner:
        out = runner.run(samples, 1000)
    np.testing.assert_array_equal(out["default"][0], np.arange(1000.0) * 2)


def test_translate_reports_why_not() -> None:
    program = compile_evalscript(script("return {default: [1], dataMask: [1]};"), ARPS_BANDS)
    assert translate(program.script).reason == ""
