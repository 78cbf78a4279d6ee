# -*- test-case-name: tests.components.upload.test_upload_store -*-
"""
Uploaded files on disk, with their metadata and expiry (XEP-0363 leaves
retention to the service).

Each file is two entries in the store's directory: C{TOKEN}, the bytes,
and C{TOKEN.json}, who uploaded it, its name, type, size and when it
expires.  The metadata is written last, and both by rename, so a file is
either completely there or not at all.  Moving, copying and deleting run in
a thread: a large file never blocks the reactor.  The index of metadata is
kept in memory (read once at start-up), so serving and quota checks touch
no disk.
"""

import json
import os
import shutil
from dataclasses import asdict, dataclass

from twisted.internet import defer, threads
from jabberd.logs import Logger

__all__ = ["StoredFile", "FileStore"]

log = Logger()


@dataclass(frozen=True)
class StoredFile:
    """
    Metadata of one stored file.

    @ivar expires: when it is removed (clock seconds); 0 for never.
    """

    token: str
    owner: str
    filename: str
    size: int
    contentType: str
    created: float
    expires: float = 0

    def expired(self, now):
        """Whether the file's time is up at C{now}."""
        return bool(self.expires) and self.expires <= now


class FileStore:
    """
    The files of one upload component.

    @ivar directory: where files and metadata live.
    @ivar expireAfter: seconds a new file is kept; 0 keeps it forever.
    """

    def __init__(self, directory, expireAfter=0, clock=None, runInThread=None):
        if clock is None:
            from twisted.internet import reactor as clock
        self.directory = directory
        self.expireAfter = expireAfter
        self.clock = clock
        self._run = runInThread or threads.deferToThread
        self._index = {}
        self._usage = {}
        self.totalUsage = 0  # bytes stored for all owners

    def load(self):
        """Read the metadata of stored files (blocking; once, at start-up)."""
        os.makedirs(self.directory, exist_ok=True)
        for name in os.listdir(self.directory):
            if name.endswith(".part"):
                # A write interrupted by a crash: never complete, never served.
                os.unlink(os.path.join(self.directory, name))
            elif name.endswith(".json"):
                self._loadRecord(name)

    def _loadRecord(self, name):
        path = os.path.join(self.directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                record = StoredFile(**json.load(f))
        except (OSError, ValueError, TypeError) as e:
            log.warn("ignoring unreadable upload metadata {path}: {error}", path=path, error=e)
            return
        if os.path.exists(self.dataPath(record.token)):
            self._remember(record)

    def dataPath(self, token):
        """Path of the bytes of file C{token}."""
        return os.path.join(self.directory, token)

    def get(self, token):
        """The L{StoredFile} C{token}, or None if unknown or expired."""
        record = self._index.get(token)
        if record is None or record.expired(self.clock.seconds()):
            return None
        return record

    def usage(self, owner):
        """Bytes stored for C{owner}."""
        return self._usage.get(owner, 0)

    def add(self, slot, source):
        """
        Store the upload of C{slot}, whose body is C{source}: the path of a
        file to move into place, or a readable file object to copy.
        Returns a Deferred firing with the L{StoredFile}.
        """
        now = self.clock.seconds()
        record = StoredFile(slot.token, slot.owner, slot.filename, slot.size, slot.contentType,
                            now, now + self.expireAfter if self.expireAfter else 0)
        d = self._run(self._write, record, source)
        d.addCallback(lambda _: self._remember(record))
        return d

    def _write(self, record, source):
        target = self.dataPath(record.token)
        if isinstance(source, str):
            shutil.move(source, target)  # a rename on the same file system
        else:
            source.seek(0)
            with open(target + ".part", "wb") as f:
                shutil.copyfileobj(source, f)
            os.replace(target + ".part", target)
        with open(target + ".json.part", "w", encoding="utf-8") as f:
            json.dump(asdict(record), f)
        os.replace(target + ".json.part", target + ".json")

    def _remember(self, record):
        self._index[record.token] = record
        self._usage[record.owner] = self.usage(record.owner) + record.size
        self.totalUsage += record.size
        return record

    def _forget(self, record):
        del self._index[record.token]
        self.totalUsage -= record.size
        left = self.usage(record.owner) - record.size
        if left > 0:
            self._usage[record.owner] = left
        else:
            self._usage.pop(record.owner, None)

    def expire(self):
        """
        Remove the files whose time is up: at once from the index (so they
        are no longer served), then from disk.  Fires with how many.
        """
        now = self.clock.seconds()
        expired = [r for r in self._index.values() if r.expired(now)]
        for record in expired:
            self._forget(record)
        if not expired:
            return defer.succeed(0)
        d = self._run(self._unlink, [r.token for r in expired])
        d.addCallback(lambda _: len(expired))
        return d

    def _unlink(self, tokens):
        for token in tokens:
            for path in (self.dataPath(token) + ".json", self.dataPath(token)):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
