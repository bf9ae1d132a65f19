"""Opening without reading data: indexes built on first use, CF times decoded without sampling.

xarray's defaults read data while a dataset is opened: it loads every dimension coordinate to
build its pandas index, and it decodes the first and last value of every CF time variable to
pick a dtype. On a Zarr cube each of those is a request (ITS_LIVE: ``mid_date``, ``x``, ``y``
and three time variables, six requests after ``.zmetadata``), on HDF5 a walk to the chunks.

- :class:`DeferredIndex` is a :class:`~xarray.indexes.PandasIndex` whose ``pandas.Index`` is
  read the first time anything asks for it (``sel``, ``isel``, alignment, ``ds.indexes``);
  the object then turns into a plain ``PandasIndex``, so code comparing index types (xarray's
  alignment) sees the ordinary class from then on. Until then the coordinate stays the lazy
  backend variable.
- :class:`DeferredTimeCoder` decodes CF datetimes exactly as xarray does, but for standard
  calendars it knows the dtype from the units and so does not sample values. A value that only
  cftime can represent fails with a clear error at load time instead of at open time.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from xarray.coding.common import lazy_elemwise_func, pop_to, unpack_for_decoding
from xarray.coding.times import CFDatetimeCoder, decode_cf_datetime
from xarray.indexes import PandasIndex

from eoaccess.errors import InvalidInputError

_STANDARD_CALENDARS = frozenset({None, "standard", "gregorian", "proleptic_gregorian"})
"""Calendars numpy datetimes represent (proleptic Gregorian: the same for dates after 1582)."""


# --- indexes -------------------------------------------------------------------------------------


class _Pending:
    """The coordinate a deferred index will be built from, and the index once built."""

    def __init__(self, name: Hashable, variable: xr.Variable) -> None:
        self.name = name
        self.variable = variable
        self._lock = threading.Lock()
        self._index: pd.Index | None = None

    def __getstate__(self) -> dict[str, Any]:  # picklable: the lock is not
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the values have been read."""
        return self._index is not None

    def load(self) -> pd.Index:
        """The pandas index of the coordinate's values (read once, shared by copies)."""
        with self._lock:
            if self._index is None:
                values = np.asarray(self.variable.values)
                built = PandasIndex.from_variables(
                    {self.name: xr.Variable(self.variable.dims, values)}, options={}
                )
                self._index = built.index
            return self._index


_INDEX_SLOT = PandasIndex.__dict__["index"]  # the slot DeferredIndex's property stands in for


class DeferredIndex(PandasIndex):
    """A pandas index over a 1-D coordinate whose values are read on first use."""

    __slots__ = ()  # same layout as PandasIndex: the instance becomes one once loaded

    def __init__(self, pending: _Pending) -> None:
        _INDEX_SLOT.__set__(self, pending)
        self.dim = pending.variable.dims[0]
        self.coord_dtype = pending.variable.dtype

    @property  # type: ignore[override]
    def index(self) -> pd.Index:
        """The ``pandas.Index``: read now if not yet, then this object is a PandasIndex."""
        value = _INDEX_SLOT.__get__(self, PandasIndex)
        if isinstance(value, _Pending):
            value = value.load()
            _INDEX_SLOT.__set__(self, value)
            self.__class__ = PandasIndex  # type: ignore[assignment]
        return value

    @index.setter
    def index(self, value: pd.Index) -> None:
        _INDEX_SLOT.__set__(self, value)

    def _pending(self) -> _Pending:
        pending = _INDEX_SLOT.__get__(self, PandasIndex)
        assert isinstance(pending, _Pending)
        return pending

    def create_variables(
        self, variables: Mapping[Any, xr.Variable] | None = None
    ) -> dict[Hashable, xr.Variable]:
        # The lazy backend variable itself: showing or indexing the dataset reads nothing.
        pending = self._pending()
        source = variables[pending.name] if variables and pending.name in variables else None
        base = pending.variable
        var = xr.Variable(base.dims, base._data, attrs=base.attrs, encoding=base.encoding)
        if source is not None:
            var.attrs, var.encoding = dict(source.attrs), dict(source.encoding)
        return {pending.name: var}

    def isel(self, indexers: Mapping[Any, Any]) -> PandasIndex | None:
        """Positional selection stays unread: a deferred index over the selected values."""
        pending = self._pending()
        indexer = indexers[self.dim]
        if pending.loaded or not isinstance(indexer, slice | np.ndarray | list):
            return _loaded(self).isel(indexers)  # a Variable or scalar: xarray's own rules
        if isinstance(indexer, np.ndarray | list) and np.ndim(indexer) != 1:
            return _loaded(self).isel(indexers)
        return DeferredIndex(_Pending(pending.name, pending.variable[{self.dim: indexer}]))

    @classmethod
    def from_variables(
        cls, variables: Mapping[Any, xr.Variable], *, options: Mapping[str, Any]
    ) -> PandasIndex:
        return PandasIndex.from_variables(variables, options=options)

    @classmethod
    def concat(
        cls,
        indexes: Sequence[PandasIndex],
        dim: Hashable,
        positions: Iterable[Iterable[int]] | None = None,
    ) -> PandasIndex:
        return PandasIndex.concat([_loaded(i) for i in indexes], dim, positions)

    def _copy(self, deep: bool = True, memo: dict[int, Any] | None = None) -> DeferredIndex:
        # Copies share the pending read (a copy does not read; whichever loads first, both get).
        return DeferredIndex(self._pending())

    def __reduce__(self) -> tuple[Any, ...]:
        value = _INDEX_SLOT.__get__(self, PandasIndex)
        if isinstance(value, _Pending):
            return (DeferredIndex, (value,))
        return PandasIndex, (value, self.dim, self.coord_dtype)

    def __repr__(self) -> str:
        return f"DeferredIndex({self._pending().name!r}, not read yet)"


def _loaded(index: PandasIndex) -> PandasIndex:
    index.index  # noqa: B018 - reading the attribute loads a deferred index (and swaps its class)
    return index


def _load_conflicting(objects: Iterable[Any]) -> None:
    """Load the deferred indexes that meet another index type on the same coordinate.

    xarray's alignment matches indexes by coordinate names *and* index class, so an unread
    DeferredIndex would conflict with the PandasIndex of an independently built array (a mask).
    Loaded, it is a PandasIndex and aligns as usual; alignment of objects from the same
    dataset (same index objects) still reads nothing.
    """
    objects = list(objects)
    kinds: dict[Hashable, set[type]] = {}
    for obj in objects:
        for name, index in obj.xindexes.items():
            kinds.setdefault(name, set()).add(type(index))
    for obj in objects:
        for name, index in obj.xindexes.items():
            if isinstance(index, DeferredIndex) and len(kinds[name]) > 1:
                _loaded(index)


def _install_alignment_hook() -> None:
    from xarray.structure.alignment import Aligner

    original = Aligner.find_matching_indexes
    if getattr(original, "_eoaccess_deferred", False):
        return

    def find_matching_indexes(self: Aligner) -> None:  # type: ignore[type-arg]
        _load_conflicting(self.objects)
        original(self)

    find_matching_indexes._eoaccess_deferred = True  # type: ignore[attr-defined]
    Aligner.find_matching_indexes = find_matching_indexes  # type: ignore[method-assign]


_install_alignment_hook()


def defer_default_indexes(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` (opened with ``create_default_indexes=False``) with a :class:`DeferredIndex` on
    every 1-D dimension coordinate that has no index, as xarray would have created eagerly."""
    indexes: dict[Hashable, DeferredIndex] = {}
    variables: dict[Hashable, xr.Variable] = {}
    for name, coord in ds.coords.items():
        var = coord.variable
        if var.dims == (name,) and name not in ds.xindexes:
            indexes[name] = DeferredIndex(_Pending(name, var))
            variables[name] = var
    if not indexes:
        return ds
    coords = xr.Coordinates(
        coords={name: index.create_variables()[name] for name, index in indexes.items()},
        indexes=indexes,
    )
    out = ds.assign_coords(coords)
    out.encoding = ds.encoding
    out.set_close(ds._close)
    return out


# --- CF times ------------------------------------------------------------------------------------


def _decode_as(
    data: np.ndarray, *, dtype: np.dtype, units: str, calendar: str | None, time_unit: str
) -> np.ndarray:
    result = decode_cf_datetime(data, units, calendar, None, time_unit)  # type: ignore[arg-type]
    if result.dtype != dtype:
        try:
            return np.asarray(result).astype(dtype)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInputError(
                f"times in {units!r} fall outside the datetime64 range: open with "
                "decode_times=False, or use_cftime=True"
            ) from None
    return result


class DeferredTimeCoder(CFDatetimeCoder):
    """xarray's CF datetime decoding without reading values at open time (standard calendars)."""

    def decode(self, variable: xr.Variable, name: Hashable = None) -> xr.Variable:
        units = variable.attrs.get("units")
        calendar = variable.attrs.get("calendar")
        if (
            self.use_cftime
            or not isinstance(units, str)
            or "since" not in units
            or (calendar.lower() if isinstance(calendar, str) else calendar)
            not in _STANDARD_CALENDARS
        ):
            return super().decode(variable, name)
        time_unit = self.time_unit or "ns"
        try:
            # Decoding a zero checks the units and reference date and gives the dtype xarray
            # would pick for in-range values, without reading any.
            probe = decode_cf_datetime(
                np.zeros(1, variable.dtype), units, calendar, None, time_unit
            )
        except (ValueError, OverflowError, TypeError):
            return super().decode(variable, name)  # xarray's own error message
        dtype = probe.dtype
        if dtype.kind != "M":
            return super().decode(variable, name)
        dims, data, attrs, encoding = unpack_for_decoding(variable)
        units = pop_to(attrs, encoding, "units")
        calendar = pop_to(attrs, encoding, "calendar")
        transform = partial(
            _decode_as, dtype=dtype, units=units, calendar=calendar, time_unit=time_unit
        )
        return xr.Variable(dims, lazy_elemwise_func(data, transform, dtype), attrs, encoding)


def lazy_options(options: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """xarray options that read nothing while opening, and whether to defer the indexes.

    Only what the caller left at xarray's defaults changes: an explicit ``decode_times`` or
    ``create_default_indexes`` is passed through as given.
    """
    options = dict(options)
    decode_times = options.get("decode_times", True)
    if decode_times is True:
        options["decode_times"] = DeferredTimeCoder(use_cftime=options.pop("use_cftime", None))
    defer = options.get("create_default_indexes", True) is True
    if defer:
        options["create_default_indexes"] = False
    return options, defer


def open_lazily(store: Any, options: Mapping[str, Any], **backend: Any) -> xr.Dataset:
    """``xr.open_dataset(store, **backend, **options)`` reading no data while opening (unless
    the caller's options ask for it): times decoded lazily, indexes built on first use."""
    lazy, defer = lazy_options(dict(options))
    ds = xr.open_dataset(store, **backend, **lazy)
    return defer_default_indexes(ds) if defer else ds
