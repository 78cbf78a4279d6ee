"""Tests for L{jabberd.auth.secret}: the server's persistent secret."""

import os
import stat

from jabberd.auth.secret import SECRET_FILE, serverSecret


def test_madeOnceAndKept(tmp_path):
    """The first call makes a private 32-byte secret; later calls (a restart) read the same one."""
    first = serverSecret(str(tmp_path))
    assert len(first) == 32
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert serverSecret(str(tmp_path)) == first


def test_unreadableFileReplaced(tmp_path):
    """A damaged file is replaced by a fresh secret instead of failing the start."""
    (tmp_path / SECRET_FILE).write_text("not hex")
    secret = serverSecret(str(tmp_path))
    assert len(secret) == 32 and serverSecret(str(tmp_path)) == secret


def test_datadirsDiffer(tmp_path):
    """Two servers (two data directories) get different secrets."""
    assert serverSecret(str(tmp_path / "a")) != serverSecret(str(tmp_path / "b"))
