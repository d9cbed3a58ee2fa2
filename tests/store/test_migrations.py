"""The Alembic migrations build exactly the tables `orderdesk.db` declares, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from orderdesk import db, runtime
from orderdesk.migrations import alembic_config, upgrade
from support import Store, order_record, payload


def schema_diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def current_revision(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision():
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_migrations_have_a_single_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1


def test_migrated_database_matches_the_declared_tables(engine):
    assert current_revision(engine) == head_revision()
    assert schema_diff(engine) == []


def test_every_declared_table_exists_after_migrating(engine):
    assert set(inspect(engine).get_table_names()) == {t.name for t in db.metadata.sorted_tables} | {
        "alembic_version"}


def test_upgrading_twice_is_harmless_and_keeps_the_data(engine):
    Store(engine).load(payload(order_record("1000000001")))
    upgrade(engine)
    upgrade(engine)

    assert current_revision(engine) == head_revision()
    assert schema_diff(engine) == []
    assert Store(engine).order("1000000001")["status"] == "awaiting_shipment"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_downgrade_to_nothing_and_upgrade_again_rebuilds_the_schema(engine):
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    upgrade(engine)
    assert schema_diff(engine) == []


def test_runtime_migrates_a_fresh_sqlite_file_on_first_use(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 'fresh.db'}"
    services = runtime.services(url)
    try:
        assert services.requests() == []
        assert schema_diff(db.get_engine(url)) == []
    finally:
        db.dispose_engines()
