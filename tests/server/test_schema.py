"""The Alembic migrations build exactly the models' schema, on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from jixiao.server.db import Base, integrity_ok, make_engine, migrate


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_models(tmp_path, backend):
    from .conftest import fresh_database, pg_base

    drop = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'x.db'}"
    else:
        url, drop = fresh_database(pg_base())
    try:
        migrate(url)
        migrate(url)  # a second run is a no-op
        engine = make_engine(url)
        with engine.connect() as c:
            diff = compare_metadata(MigrationContext.configure(c), Base.metadata)
            if engine.dialect.name == "sqlite":
                mode = c.exec_driver_sql("PRAGMA journal_mode").scalar()
                assert mode == "wal"
        assert diff == []
        assert integrity_ok(engine)[0]
        engine.dispose()
    finally:
        if drop:
            drop()
