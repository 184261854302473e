"""Runs the storage contract suite (tests/storage_contract.py) against every engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chronik.storage.memory import MemoryStorage
from chronik.storage.rocks import RocksStorage
from tests.storage_contract import EngineFactory, PersistentStorageContract, StorageContract


class TestMemoryStorage(StorageContract):
    @pytest.fixture
    def engine(self) -> Iterator[EngineFactory]:
        factory = EngineFactory(MemoryStorage, persistent=False)
        yield factory
        factory.close_all()


class TestRocksStorage(PersistentStorageContract):
    @pytest.fixture
    def engine(self, tmp_path: Path) -> Iterator[EngineFactory]:
        factory = EngineFactory(lambda: RocksStorage(tmp_path / "store"), persistent=True)
        yield factory
        factory.close_all()
