"""What an evalscript declares in ``setup()``: its input bands and its outputs.

``setup()`` always runs in V8 (it may compute its answer), once per script; its JSON result is
checked here against what the Statistical API supports: SIMPLE mosaicking, one data source, band
names the collection has, and a ``dataMask`` output (Sentinel Hub requires one for statistics).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from eoaccess.stats._program import DATA_MASK, SAMPLE_TYPES, OutputSpec
from eoaccess.stats.evalscript._errors import EvalscriptError
from eoaccess.stats.evalscript._js import (
    EvalscriptLimits,
    is_js_error,
    settle,
    translate_error,
    v8_context,
)

# Sample types an evalscript may declare (Sentinel Hub's; FLOAT64 is for expressions only).
EVALSCRIPT_SAMPLE_TYPES = tuple(t for t in SAMPLE_TYPES if t != "FLOAT64")
_VERSION = re.compile(r"^\s*//\s*VERSION\s*=\s*(\d+)", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
MAX_OUTPUT_BANDS = 64


@dataclass(frozen=True)
class Evalscript:
    """A checked evalscript V3."""

    source: str
    """The script text."""
    inputs: tuple[str, ...]
    """Input band names, ``dataMask`` included when asked for."""
    outputs: tuple[OutputSpec, ...]
    """Outputs other than ``dataMask``, in declaration order."""
    mask_output: OutputSpec
    """The ``dataMask`` output."""

    @property
    def bands(self) -> tuple[str, ...]:
        """Input bands read from the data (``dataMask`` comes from the mosaic)."""
        return tuple(b for b in self.inputs if b != DATA_MASK)

    @property
    def all_outputs(self) -> tuple[OutputSpec, ...]:
        return (*self.outputs, self.mask_output)


def check_version(source: str) -> None:
    """Only evalscript V3 (``//VERSION=3`` on the first line) has setup() and evaluatePixel()."""
    if not isinstance(source, str) or not source.strip():
        raise EvalscriptError("the evalscript is empty")
    first = next(line for line in source.splitlines() if line.strip())
    match = _VERSION.match(first)
    if match is None or match.group(1) != "3":
        raise EvalscriptError(
            "only evalscript V3 is supported: start the script with the line //VERSION=3"
        )


def _names(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EvalscriptError(f"setup(): {what} must be a list of band names")
    return tuple(value)


def _inputs(raw: Any, available: Collection[str]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise EvalscriptError("setup() must return an 'input' list of band names")
    if all(isinstance(v, str) for v in raw):
        bands = tuple(raw)
    else:
        if len(raw) != 1 or not isinstance(raw[0], dict):
            raise EvalscriptError(
                "setup(): only one input object is supported (no data fusion); "
                "write input: [{bands: [...]}]"
            )
        spec = raw[0]
        if spec.get("datasource") is not None:
            raise EvalscriptError("setup(): data fusion (input datasource) is not supported")
        bands = _names(spec.get("bands"), "input bands")
    unknown = [b for b in bands if b != DATA_MASK and b not in available]
    if unknown:
        raise EvalscriptError(
            f"setup(): unknown input band(s) {', '.join(unknown)}; "
            f"the collection has {', '.join(sorted(available)) or 'no bands'} and dataMask"
        )
    if not bands:
        raise EvalscriptError("setup(): the input lists no bands")
    return tuple(dict.fromkeys(bands))


def _output(raw: Any) -> OutputSpec:
    if not isinstance(raw, dict):
        raise EvalscriptError("setup(): each output must be an object {id, bands, sampleType}")
    output_id = raw.get("id", "default")
    if not isinstance(output_id, str) or not _NAME.match(output_id):
        raise EvalscriptError(f"setup(): invalid output id {output_id!r}")
    bands = raw.get("bands", 1)
    if isinstance(bands, bool) or not isinstance(bands, int | list):
        raise EvalscriptError(f"setup(): output {output_id!r} bands must be a count or names")
    if isinstance(bands, int):
        if not 1 <= bands <= MAX_OUTPUT_BANDS:
            raise EvalscriptError(
                f"setup(): output {output_id!r} must have 1 to {MAX_OUTPUT_BANDS} bands"
            )
        names = tuple(f"B{i}" for i in range(bands))
    else:
        names = _names(bands, f"output {output_id!r} bands")
        if not names or len(set(names)) != len(names):
            raise EvalscriptError(f"setup(): output {output_id!r} band names must be unique")
    sample_type = raw.get("sampleType", "FLOAT32")
    if not isinstance(sample_type, str) or sample_type.upper() not in EVALSCRIPT_SAMPLE_TYPES:
        raise EvalscriptError(
            f"setup(): output {output_id!r} has sampleType {sample_type!r}; "
            f"use one of {', '.join(EVALSCRIPT_SAMPLE_TYPES)}"
        )
    return OutputSpec(output_id, names, sample_type.upper())


def _outputs(raw: Any) -> tuple[tuple[OutputSpec, ...], OutputSpec]:
    specs = [_output(o) for o in (raw if isinstance(raw, list) else [raw])]
    ids = [s.id for s in specs]
    if len(set(ids)) != len(ids):
        raise EvalscriptError(f"setup(): output ids must be unique, got {', '.join(ids)}")
    masks = [s for s in specs if s.id == DATA_MASK]
    if not masks:
        raise EvalscriptError(
            "the Statistical API needs a dataMask output: add {id: 'dataMask', bands: 1} to "
            "setup().output and return dataMask: [value] from evaluatePixel"
        )
    if len(masks[0].bands) != 1:
        raise EvalscriptError("setup(): the dataMask output must have exactly 1 band")
    others = tuple(s for s in specs if s.id != DATA_MASK)
    if not others:
        raise EvalscriptError("setup(): declare at least one output besides dataMask")
    return others, masks[0]


def parse_evalscript(
    source: str, available: Collection[str], limits: EvalscriptLimits | None = None
) -> Evalscript:
    """Load ``source`` in V8, run ``setup()`` and check its inputs against ``available`` bands."""
    check_version(source)
    limits = limits or EvalscriptLimits()
    with v8_context(source, limits) as context:
        try:
            kind = context.eval("typeof setup + ',' + typeof evaluatePixel")
            if kind != "function,function":
                raise EvalscriptError("the evalscript must define setup() and evaluatePixel()")
            text = context.eval("JSON.stringify(setup())", timeout_sec=limits.setup_seconds)
        except EvalscriptError:
            raise
        except Exception as exc:
            if is_js_error(exc):
                settle(context)
                raise translate_error(exc, "setup()", bad_script=True) from None
            raise
    try:
        declared = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        declared = None
    if not isinstance(declared, dict):
        raise EvalscriptError("setup() must return an object {input, output}")
    mosaicking = str(declared.get("mosaicking", "SIMPLE")).upper()
    if mosaicking != "SIMPLE":
        raise EvalscriptError(
            f"setup(): mosaicking {mosaicking} is not supported; use SIMPLE (the default)"
        )
    inputs = _inputs(declared.get("input"), available)
    outputs, mask = _outputs(declared.get("output"))
    return Evalscript(source, inputs, outputs, mask)
