"""Fixtures of the statistics tests: ingested ARPS sample archives (tiny and small)."""

from __future__ import annotations

import pytest

from tests.stats.archives import ArpsArchive, arps_archive


@pytest.fixture(scope="session")
def arps_tiny(tmp_path_factory: pytest.TempPathFactory) -> ArpsArchive:
    return arps_archive(tmp_path_factory, "tiny")


@pytest.fixture(scope="session")
def arps_small(tmp_path_factory: pytest.TempPathFactory) -> ArpsArchive:
    return arps_archive(tmp_path_factory, "small")
