"""What the embedded store pushes down to SQLite, and what it leaves to exact evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eoaccess.matching import normalize_filter
from eoaccess.query import make_query, parse_filter
from eoaccess.stores import open_store
from eoaccess.stores._sqlite_cql2 import Condition, like_to_glob, translate
from eoaccess.stores.embedded import EmbeddedStore, _Plan


def _spatial(predicate: str, geojson: Any) -> Condition:
    return Condition(f"SPATIAL({predicate})", (geojson["type"],), "PROBE", ())


def _split(text: str) -> tuple[str, tuple[Any, ...], Any]:
    result = translate(normalize_filter(parse_filter(text)), _spatial)
    return result.sql, result.params, result.residual


@pytest.mark.parametrize(
    ("pattern", "glob"),
    [
        ("sentinel-2_", "sentinel-2?"),
        ("%sat%", "*sat*"),
        ("a*b?[c]", "a[*]b[?][[]c]"),
        (r"100\%", "100%"),
        (r"under\_score", "under_score"),
    ],
)
def test_like_patterns_become_case_sensitive_globs(pattern: str, glob: str) -> None:
    assert like_to_glob(pattern) == glob


def test_common_operators_translate_fully() -> None:
    sql, params, residual = _split(
        "(eo:cloud_cover BETWEEN 1 AND 5 OR platform IN ('a', 'b')) AND NOT (gsd <> 10)"
        " AND platform LIKE 's%' AND eo:cloud_cover IS NULL AND id = 'x'"
    )
    prop = "json_extract(content, '$.properties.\"{}\"')"
    assert residual is None
    assert sql == (
        f"(({prop.format('eo:cloud_cover')} BETWEEN ? AND ?) OR ({prop.format('platform')} IN (?, ?)))"
        f" AND (NOT ({prop.format('gsd')} <> ?)) AND ({prop.format('platform')} GLOB ?)"
        f" AND ({prop.format('eo:cloud_cover')} IS NULL) AND (items.id = ?)"
    )
    assert params == (1.0, 5.0, "a", "b", 10.0, "s*", "x")


def test_time_and_space_translate_to_columns_and_the_spatial_function() -> None:
    sql, params, residual = _split(
        "T_INTERSECTS(datetime, INTERVAL('2020-01-01T00:00:00Z', '..'))"
        " AND end_datetime < TIMESTAMP('2021-01-01T00:00:00Z')"
        " AND S_WITHIN(geometry, BBOX(0, 0, 10, 10))"
    )
    assert residual is None
    assert sql == ("(items.datetime >= ?) AND (items.end_datetime < ?) AND SPATIAL(contains)")
    assert params == (1_577_836_800_000_000, 1_609_459_200_000_000, "Polygon")


def test_untranslatable_terms_are_left_to_exact_evaluation() -> None:
    sql, params, residual = _split(
        "eo:cloud_cover < 20 AND CASEI(platform) = 'LANDSAT-8' AND gsd + 1 > 30"
    )
    assert sql == "(json_extract(content, '$.properties.\"eo:cloud_cover\"') < ?)"
    assert params == (20.0,)
    assert residual == {
        "op": "and",
        "args": [
            {
                "op": "=",
                "args": [
                    {"op": "casei", "args": [{"property": "platform"}]},
                    {"op": "casei", "args": ["LANDSAT-8"]},
                ],
            },
            {
                "op": ">",
                "args": [{"op": "+", "args": [{"property": "gsd"}, 1.0]}, 30.0],
            },
        ],
    }


@pytest.mark.parametrize(
    "text",
    [
        "id = 3",  # a text column against a number
        "datetime > '2020-01-01'",  # a time column against plain text
        "flag = TRUE",  # booleans read back as 1/0 in SQLite
        "T_INTERSECTS(datetime, DATE('2020-01-01'))",
        "eo:cloud_cover < 20 OR CASEI(platform) = 'X'",  # one part of an OR cannot be SQL
    ],
)
def test_terms_sql_cannot_express_exactly_stay_residual(text: str) -> None:
    sql, _, residual = _split(text)
    assert sql == "1"
    assert residual is not None


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedStore:
    from tests.stores.conftest import load

    store = open_store(None, tmp_path_factory.mktemp("plans"))
    assert isinstance(store, EmbeddedStore)
    load(store)
    return store


def _plan_of(store: EmbeddedStore, **criteria: Any) -> tuple[int, str]:
    """The driving condition the store picks, and SQLite's plan for the next page."""
    plan = _Plan.of(make_query(**criteria))
    conn = store._connection()
    driver = plan.driver(conn)
    where, params = plan.where(driver)
    after, after_params = plan.after([0] * len(plan.keys), driver >= 0)
    sql = (
        f"EXPLAIN QUERY PLAN SELECT items.content FROM {plan.source(driver)}"
        f" WHERE {where} AND {after}"
        f" ORDER BY {plan.order_by(driver >= 0)} LIMIT 11"
    )
    rows = conn.execute(sql, [*params, *after_params])
    return driver, "\n".join(row[3] for row in rows)


def test_default_order_pages_walk_the_datetime_index(catalog: EmbeddedStore) -> None:
    for criteria in ({}, {"collections": "sentinel-2-l2a"}, {"filter": "gsd < 1000"}):
        driver, plan = _plan_of(catalog, **criteria)
        assert driver == -1  # nothing selective (the probes count up to 10,000 and see all)
        assert "USING INDEX items_datetime ((datetime,collection,id)<(?,?,?))" in plan
        assert "TEMP B-TREE" not in plan


def test_the_most_selective_condition_drives(catalog: EmbeddedStore) -> None:
    driver, plan = _plan_of(
        catalog, bbox="0,0,10,10", filter="platform = 'landsat-8'", collections="landsat-c2-l2"
    )
    assert driver == 1  # collections, bbox, filter: the R*Tree finds the fewest
    assert "SCAN item_boxes VIRTUAL TABLE" in plan
    assert "items_key" not in plan and "items_p" not in plan
    driver, plan = _plan_of(catalog, filter="\"eo:cloud_cover\" < 0.5 AND platform = 'terra'")
    assert driver == 0
    assert "USING INDEX items_p0 (<expr><?)" in plan
    assert "TEMP B-TREE FOR ORDER BY" in plan  # a few rows, sorted


def test_the_catalog_is_one_file_in_the_archive(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)
    store.close()
    assert sorted(p.name for p in (tmp_path / ".eoaccess").iterdir()) == ["catalog.sqlite"]
