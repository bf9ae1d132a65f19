"""h5netcdf without the file walk: dimension scales named by looking near the variable.

h5netcdf names a variable's dimensions by dereferencing each entry of its ``DIMENSION_LIST``
and asking the scale for its path (``H5Iget_name``). An object opened by reference has no
known path, so HDF5 searches the whole group tree from the root for its address, reading the
object header of every group and dataset in the file. On ATL03 (~900 datasets, headers
interleaved with data) opening ``gt1l/heights`` over HTTP so read 92 % of a small granule.

A dimension scale is almost always a dataset of the variable's own group or of an ancestor
(netCDF-4 requires it; ATL03's ``delta_time`` sits next to the photon arrays). So the scale
is matched by object identity (file number and address: no read) against the members of those
groups, whose headers xarray opens anyway. Only if it is elsewhere does h5netcdf's own lookup
run, with its walk.

h5netcdf also opens every member of every group it initialises, the root included: opening
``gt1l/heights`` read the headers of all six beams and of ``METADATA``. With ``only=`` the
groups above the wanted one list just the next group on the path. Dimension scales of an
ancestor (ATL03's root ``ds_surf_type`` for ``signal_conf_ph``) are found by address in the
ancestor's link table (no member opened); a variable using one raises
:class:`NeedsAncestors` and the caller opens again showing that scale too (``extra=``; the
blocks read so far stay cached, so the retry costs no request).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import h5netcdf
import h5py
from h5netcdf.core import _unlabeled_dimension_mix

_ADDRS_ATTR = "_eoaccess_member_addrs"


class NeedsAncestors(Exception):
    """A variable of the wanted group uses dimension scales of a group above it."""

    def __init__(self, path: str, name: str) -> None:
        super().__init__(f"{path}/{name}")
        self.path = path
        self.name = name


class _Members:
    """An h5py group seen as holding only some of its members (by name)."""

    def __init__(self, group: h5py.Group, names: frozenset[str]) -> None:
        self._group = group
        self._names = names

    def __iter__(self) -> Any:
        return iter([name for name in self._group if name in self._names])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name: object) -> bool:
        return name in self._names and name in self._group

    def __getitem__(self, name: str) -> Any:
        return self._group[name]

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._group, attribute)


def _real(group: Any) -> h5py.Group:
    return group._root._h5file[group._h5path]


def _view(group: Any) -> Any:
    """The h5py group behind an h5netcdf group, restricted on the way to ``only``."""
    h5group = _real(group)
    root = group._root
    only: str | None = getattr(root, "_eoaccess_only", None)
    path = group._h5path.strip("/")
    if only and (not path or only.startswith(path + "/")):
        rest = only[len(path) + 1 :] if path else only
        extra = root._eoaccess_extra.get(path, frozenset())
        return _Members(h5group, frozenset({rest.split("/", 1)[0], *extra}))
    return h5group


def _member_addrs(group: Any) -> dict[int, str]:
    """``{object address: name}`` of the hard links in ``group``, from its link table alone
    (no member is opened; cached on the group)."""
    cached: dict[int, str] | None = getattr(group, _ADDRS_ATTR, None)
    if cached is None:
        found: dict[int, str] = {}

        def visit(name: bytes, info: Any) -> None:
            if info.type == h5py.h5l.TYPE_HARD:
                found[info.u] = name.decode("utf-8", "surrogateescape")

        h5group = _real(group)  # kept: the link proxy holds only the group's raw identifier
        h5group.id.links.iterate(visit, info=True)
        cached = found
        setattr(group, _ADDRS_ATTR, cached)
    return cached


def _near_name(group: Any, address: int) -> str | None:
    """The name of the object at ``address`` in ``group`` or one of its ancestors, if there."""
    current: Any = group
    while current is not None:
        name = _member_addrs(current).get(address)
        if name is not None:
            if name not in _view(current):  # an ancestor seen through a restricted view
                raise NeedsAncestors(current._h5path.strip("/"), name)
            return name
        parent = getattr(current, "_parent", None)
        current = None if parent is current else parent
    return None


class _Variable(h5netcdf.Variable):
    def _lookup_dimensions(self) -> tuple[str, ...]:
        names = self._scale_names_nearby()
        return names if names is not None else super()._lookup_dimensions()

    def _scale_names_nearby(self) -> tuple[str, ...] | None:
        attrs = self._h5ds.attrs
        if "DIMENSION_LIST" not in attrs:
            return None
        if "_Netcdf4Coordinates" in attrs and attrs.get("CLASS") == b"DIMENSION_SCALE":
            return None  # netCDF-4 coordinate variables: h5netcdf reads ids, no walk
        if _unlabeled_dimension_mix(self._h5ds) != "labeled":
            return None
        h5file = self._root._h5file
        names = []
        for refs in attrs["DIMENSION_LIST"]:
            # The last scale attached to an axis wins, as in netcdf-c and h5netcdf.
            address = h5py.h5o.get_info(h5file[refs[-1]].id).addr
            name = _near_name(self._parent, address)
            if name is None:
                return None
            names.append(name)
        return tuple(names)


class _Restricted:
    """What groups and files share: their members are the restricted view, their subgroups
    are :class:`_Group`, their variables :class:`_Variable`."""

    _variable_cls = _Variable

    @property
    def _h5group(self) -> Any:
        return _view(self)

    @property
    def _group_cls(self) -> type[h5netcdf.Group]:
        return _Group


class _Group(_Restricted, h5netcdf.Group):
    pass


class File(_Restricted, h5netcdf.File):
    """An ``h5netcdf.File`` whose variables name their dimension scales without a file walk;
    ``only="a/b"`` opens just the groups on the way to ``a/b``."""

    def __init__(
        self,
        path: Any,
        mode: str = "r",
        *,
        only: str | None = None,
        extra: Mapping[str, frozenset[str]] | None = None,
        **kwargs: Any,
    ) -> None:
        # Set before h5netcdf's init, which lists the root group's members.
        self._eoaccess_only = only.strip("/") if only else None
        self._eoaccess_extra = dict(extra or {})
        """Members of groups above ``only`` to show too: {group path: names} (scales)."""
        super().__init__(path, mode, **kwargs)
