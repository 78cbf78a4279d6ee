"""
Fixtures for integration tests: a real jabberd per test module, run once on
SQLite and once on PostgreSQL (the same suite on both storage back ends).
"""

import os

import pytest

from tests.integration.harness import OwnServers, PostgresSchema, ServerProcess


def _postgresAvailable():
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request):
    """The storage URL for this module's server: SQLite, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield None
        return
    if not _postgresAvailable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL at 127.0.0.1:5432 is required in CI")
        pytest.skip("no PostgreSQL server at 127.0.0.1:5432")
    schema = PostgresSchema().create()
    yield schema.url()
    schema.drop()


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    """A started jabberd with accounts alice, bob, carol, dave, erin and frank (passwords = name + 'pw')."""
    proc = ServerProcess(tmp_path_factory.mktemp("jabberd"), database=backend)
    proc.start()
    for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
        proc.adduser(name, name + "pw")
    yield proc
    proc.stop()


@pytest.fixture
def ownServers(backend, tmp_path):
    """L{OwnServers} on this module's back end, for servers a test kills, restarts or configures."""
    servers = OwnServers(backend, tmp_path)
    yield servers
    servers.close()


@pytest.fixture
def sqliteServer(tmp_path):
    """A started jabberd of the test's own on SQLite, accounts alice and bob, to restart or kill."""
    servers = OwnServers(None, tmp_path)
    yield servers.make()
    servers.close()
