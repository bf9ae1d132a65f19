"""HDF5 writing for the ATL03 sample: variables, dimension scales and the METADATA group.

Conventions of the real granules that readers rely on: fixed-length byte-string attributes,
photon- and segment-rate arrays chunked ``(10000,)`` with gzip level 6 (byte shuffle on
integers only), unlimited first dimension, ``delta_time`` as the HDF5 dimension scale of every
array of its group and the root scales ``ds_surf_type`` / ``ds_xyz`` on the trailing axes.
Nothing records wall-clock time (``track_times=False``), so files are byte-for-byte repeatable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import h5py
import numpy as np
from numpy.typing import NDArray

from eoaccess.sample._atl03_schema import AttrValue, Var

CHUNK = 10000
"""Chunk length of photon- and segment-rate arrays, as in the real granules."""

MetaValue = str | int | float | Sequence[str] | Sequence[int]


def attr_value(value: AttrValue | MetaValue, dtype: str | None = None) -> NDArray[Any]:
    """An attribute value as numpy: NUL-terminated bytes for text, ``dtype`` numbers otherwise."""
    numeric = np.dtype(dtype) if dtype and dtype[0] in "iuf" else None
    if isinstance(value, str):
        return np.array(value.encode(), dtype=f"S{len(value.encode()) + 1}")
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], str):
            encoded = [str(v).encode() for v in value]
            return np.array(encoded, dtype=f"S{max(len(v) for v in encoded) + 1}")
        return np.array(value, dtype=numeric or np.int32)
    if numeric is not None:
        return np.array(value, dtype=numeric)
    return np.array(value, dtype=np.int32 if isinstance(value, int) else np.float64)


_TYPES: dict[str, h5py.h5t.TypeID] = {}


def _h5type(array: NDArray[Any]) -> h5py.h5t.TypeID:
    """HDF5 type of an array; text is fixed-length and NUL-terminated, as in the C products."""
    key = array.dtype.str
    if key not in _TYPES:
        if array.dtype.kind == "S":
            tid = h5py.h5t.C_S1.copy()
            tid.set_size(array.dtype.itemsize)
            tid.set_strpad(h5py.h5t.STR_NULLTERM)
        else:
            tid = h5py.h5t.py_create(array.dtype)
        _TYPES[key] = tid
    return _TYPES[key]


def set_attrs(
    obj: h5py.Group | h5py.Dataset,
    attrs: Mapping[str, AttrValue | MetaValue],
    dtype: str | None = None,
) -> None:
    """Write new attributes in name order (numbers as ``dtype`` when given)."""
    # The low-level API is several times faster than ``obj.attrs[...] = ...`` for the
    # ~8000 attributes of a granule, and lets text be NUL-terminated like the real files.
    scalar = h5py.h5s.create(h5py.h5s.SCALAR)
    for key in sorted(attrs):
        array = np.asarray(attr_value(attrs[key], dtype), order="C")
        tid = _h5type(array)
        space = h5py.h5s.create_simple(array.shape) if array.ndim else scalar
        h5py.h5a.create(obj.id, key.encode(), tid, space).write(array, mtype=tid)


def _creation_properties() -> h5py.h5p.PropDCID:
    """Dataset creation properties: no timestamps, all attributes in the object header."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    # The 1.10 format moves objects with more than 8 attributes to "dense" storage (a fractal
    # heap and a B-tree per dataset), which costs ~1 KB and time per dataset for nothing here.
    dcpl.set_attr_phase_change(64, 48)
    return dcpl


def _cast(data: NDArray[Any], dtype: str) -> NDArray[Any]:
    kind = np.dtype(dtype).kind
    if kind in "iu" and data.dtype.kind == "f":
        data = np.rint(data)
    if kind == "b" or data.dtype.kind == "b":
        data = data.astype(np.int8)
    return np.asarray(data).astype(dtype, copy=False)


def write_series(
    group: h5py.Group,
    name: str,
    var: Var,
    data: NDArray[Any],
    *,
    scale: h5py.Dataset | None,
    root_scales: Mapping[str, h5py.Dataset],
    open_trailing: bool = False,
) -> h5py.Dataset:
    """Write a photon-, segment- or record-rate array; ``scale=None`` makes it the scale."""
    array = np.ascontiguousarray(_cast(np.asarray(data), var.dtype))
    trailing = array.shape[1:]
    unlimited = h5py.h5s.UNLIMITED
    maxshape = (unlimited,) + ((unlimited,) * len(trailing) if open_trailing else trailing)
    dcpl = _creation_properties()
    dcpl.set_chunk((CHUNK, *trailing))
    if var.fill is not None:
        dcpl.set_fill_value(np.array(var.fill, dtype=var.dtype))
    if array.dtype.kind in "iu":
        dcpl.set_shuffle()
    dcpl.set_deflate(6)
    tid = _h5type(array)
    space = h5py.h5s.create_simple(array.shape, maxshape)
    dsid = h5py.h5d.create(group.id, name.encode(), tid, space, dcpl=dcpl)
    if array.size:
        dsid.write(h5py.h5s.ALL, h5py.h5s.ALL, array, mtype=tid)
    dset = h5py.Dataset(dsid)
    if var.fill is not None:
        set_attrs(dset, {"_FillValue": var.fill}, var.dtype)
    set_attrs(dset, var.attrs, var.dtype)
    if scale is None:
        dset.make_scale(name)
    else:
        dset.dims[0].attach_scale(scale)
    for axis, dim in enumerate(var.extra_dims, start=1):
        dset.dims[axis].attach_scale(root_scales[dim])
    return dset


def write_small(group: h5py.Group, name: str, var: Var, data: Any) -> None:
    """Write a short contiguous array (ancillary parameters, orbit info, QA statistics)."""
    if var.dtype.startswith("S"):
        encoded = [str(v).encode() for v in np.atleast_1d(np.asarray(data, dtype=object))]
        array = np.array(encoded, dtype=f"S{max(len(v) for v in encoded) + 1}")
    else:
        array = _cast(np.atleast_1d(np.asarray(data)), var.dtype)
    tid = _h5type(array)
    space = h5py.h5s.create_simple(array.shape)
    dset = h5py.h5d.create(group.id, name.encode(), tid, space, dcpl=_creation_properties())
    dset.write(h5py.h5s.ALL, h5py.h5s.ALL, array, mtype=tid)
    obj = group[name]
    if var.fill is not None:
        set_attrs(obj, {"_FillValue": var.fill}, var.dtype)
    set_attrs(obj, var.attrs, None if var.dtype.startswith("S") else var.dtype)


def write_scale(group: h5py.Group, name: str, var: Var, size: int) -> h5py.Dataset:
    """A root dimension scale numbering its axis 1..size."""
    dset = group.create_dataset(
        name, data=np.arange(1, size + 1, dtype=var.dtype), track_times=False
    )
    set_attrs(dset, var.attrs, var.dtype)
    dset.make_scale(name)
    return dset


def iso_dataset_xml(
    file_name: str,
    created: str,
    history: str,
    polygon: tuple[NDArray[np.float64], NDArray[np.float64]],
    begin: str,
    end: str,
) -> str:
    """A compact ISO 19115-2 (ISO 19139 XML) dataset record like ``iso_19139_dataset_xml``."""
    lat, lon = polygon
    pos = " ".join(f"{a:.5f} {o:.5f}" for a, o in zip(lat, lon, strict=True))
    code = "http://www.isotc211.org/2005/resources/Codelist/gmxCodelists.xml"
    return f"""<?xml version="1.0"?>
<gmd:DS_Series xmlns:gco="http://www.isotc211.org/2005/gco" xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gmi="http://www.isotc211.org/2005/gmi" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:gmx="http://www.isotc211.org/2005/gmx">
  <gmd:composedOf>
    <gmd:DS_DataSet>
      <gmd:has>
        <gmi:MI_Metadata>
          <gmd:fileIdentifier>
            <gmx:FileName>{file_name}</gmx:FileName>
          </gmd:fileIdentifier>
          <gmd:identificationInfo>
            <gmd:MD_DataIdentification>
              <gmd:citation>
                <gmd:CI_Citation>
                  <gmd:title>
                    <gmx:FileName>{file_name}</gmx:FileName>
                  </gmd:title>
                  <gmd:date>
                    <gmd:CI_Date>
                      <gmd:date>
                        <gco:DateTime>{created}</gco:DateTime>
                      </gmd:date>
                      <gmd:dateType>
                        <gmd:CI_DateTypeCode codeList="{code}#CI_DateTypeCode" codeListValue="creation">creation</gmd:CI_DateTypeCode>
                      </gmd:dateType>
                    </gmd:CI_Date>
                  </gmd:date>
                  <gmd:identifier>
                    <gmd:MD_Identifier>
                      <gmd:code>
                        <gco:CharacterString>ATL03</gco:CharacterString>
                      </gmd:code>
                      <gmd:description>
                        <gco:CharacterString>The ECS Short Name</gco:CharacterString>
                      </gmd:description>
                    </gmd:MD_Identifier>
                  </gmd:identifier>
                  <gmd:identifier>
                    <gmd:MD_Identifier>
                      <gmd:code>
                        <gco:CharacterString>006</gco:CharacterString>
                      </gmd:code>
                      <gmd:description>
                        <gco:CharacterString>The ECS Version ID</gco:CharacterString>
                      </gmd:description>
                    </gmd:MD_Identifier>
                  </gmd:identifier>
                  <gmd:identifier>
                    <gmd:MD_Identifier>
                      <gmd:code>
                        <gco:CharacterString>{file_name}</gco:CharacterString>
                      </gmd:code>
                      <gmd:description>
                        <gco:CharacterString>ProducerGranuleId</gco:CharacterString>
                      </gmd:description>
                    </gmd:MD_Identifier>
                  </gmd:identifier>
                </gmd:CI_Citation>
              </gmd:citation>
              <gmd:language>
                <gco:CharacterString>eng</gco:CharacterString>
              </gmd:language>
              <gmd:extent>
                <gmd:EX_Extent id="boundingExtent">
                  <gmd:geographicElement>
                    <gmd:EX_BoundingPolygon id="boundingPolygon0">
                      <gmd:extentTypeCode>
                        <gco:Boolean>true</gco:Boolean>
                      </gmd:extentTypeCode>
                      <gmd:polygon>
                        <gml:Polygon gml:id="Poly0">
                          <gml:exterior>
                            <gml:LinearRing>
                              <gml:posList srsDimension="2" srsName="http://www.opengis.net/def/crs/EPSG/4326">{pos}</gml:posList>
                            </gml:LinearRing>
                          </gml:exterior>
                        </gml:Polygon>
                      </gmd:polygon>
                    </gmd:EX_BoundingPolygon>
                  </gmd:geographicElement>
                  <gmd:temporalElement>
                    <gmd:EX_TemporalExtent>
                      <gmd:extent>
                        <gml:TimePeriod gml:id="TIME_PERIOD_ID">
                          <gml:beginPosition>{begin}</gml:beginPosition>
                          <gml:endPosition>{end}</gml:endPosition>
                        </gml:TimePeriod>
                      </gmd:extent>
                    </gmd:EX_TemporalExtent>
                  </gmd:temporalElement>
                </gmd:EX_Extent>
              </gmd:extent>
            </gmd:MD_DataIdentification>
          </gmd:identificationInfo>
          <gmd:dataQualityInfo>
            <gmd:DQ_DataQuality>
              <gmd:lineage>
                <gmd:LI_Lineage>
                  <gmd:processStep>
                    <gmi:LE_ProcessStep>
                      <gmd:description>
                        <gco:CharacterString>{history}</gco:CharacterString>
                      </gmd:description>
                      <gmd:dateTime>
                        <gco:DateTime>{created}</gco:DateTime>
                      </gmd:dateTime>
                    </gmi:LE_ProcessStep>
                  </gmd:processStep>
                </gmd:LI_Lineage>
              </gmd:lineage>
            </gmd:DQ_DataQuality>
          </gmd:dataQualityInfo>
        </gmi:MI_Metadata>
      </gmd:has>
    </gmd:DS_DataSet>
  </gmd:composedOf>
  <gmd:seriesMetadata gco:nilReason="missing"/>
</gmd:DS_Series>
"""
