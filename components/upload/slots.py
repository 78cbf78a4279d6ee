# -*- test-case-name: tests.components.upload.test_upload_slots -*-
"""
Upload slots (XEP-0363 section 4), without XML: validating a request,
enforcing the size limit and the per-user quota, and handing out
single-use slots that expire when their upload does not come in time.

A slot is named by a random token that is the secret part of both its PUT
and GET URL (section 8: the URLs must be hard to guess).  Its life:
L{SlotManager.request} makes it pending; the upload L{claim}s it, which
makes it unusable for any other upload; L{SlotManager.release} ends it once
the file is stored or the store failed.  A user's quota counts stored files
and the slots still pending or in flight, so parallel requests cannot
exceed it.  With open registration one quota per account bounds nothing
(register more accounts), so a total quota bounds all accounts together
the same way.  Both are checked from running totals kept as slots open
and end, never by scanning the open slots.
"""

import re
import secrets
import unicodedata
from dataclasses import dataclass

__all__ = ["Slot", "SlotManager", "SlotError", "BadRequest", "FileTooLarge",
           "QuotaExceeded", "cleanFilename", "DEFAULT_CONTENT_TYPE"]

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_FILENAME = 255

_MEDIA_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=(\"[^\"\\]*\"|[\w.+-]+))*")


class SlotError(Exception):
    """A slot request that cannot be granted."""


class BadRequest(SlotError):
    """The request is malformed: a missing or invalid filename, size or type."""


class FileTooLarge(SlotError):
    """
    The file exceeds the service's limit (section 5).

    @ivar maxFileSize: the limit, for the C{<max-file-size/>} the client shows.
    """

    def __init__(self, maxFileSize):
        super().__init__(f"File too large: the limit is {maxFileSize} bytes")
        self.maxFileSize = maxFileSize


class QuotaExceeded(SlotError):
    """Storing the file would take the user, or the service, over its quota (section 5)."""


@dataclass(frozen=True)
class Slot:
    """
    A granted slot.

    @ivar token: the random URL segment naming the slot and later the file.
    @ivar owner: bare JID of the requester.
    @ivar expires: when the upload must have started (clock seconds).
    """

    token: str
    owner: str
    filename: str
    size: int
    contentType: str
    expires: float


def cleanFilename(raw):
    """
    The file name as it will appear in URLs and downloads: the last path
    component, without control characters; L{BadRequest} if nothing usable
    is left.
    """
    if not raw:
        raise BadRequest("A filename is required")
    name = re.split(r"[/\\]", raw)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    if name in ("", ".", ".."):
        raise BadRequest("The filename is not usable")
    if len(name) > MAX_FILENAME:
        raise BadRequest(f"The filename is longer than {MAX_FILENAME} characters")
    return name


def _parseSize(raw):
    if raw is None or not re.fullmatch(r"\s*[0-9]{1,19}\s*", raw):
        raise BadRequest("The size must be a non-negative whole number of bytes")
    return int(raw)


def _contentType(raw):
    if not raw:
        return DEFAULT_CONTENT_TYPE
    if not _MEDIA_TYPE.fullmatch(raw.strip()):
        raise BadRequest("The content-type is not a media type")
    return raw.strip()


class SlotManager:
    """
    Grants slots within the limits and tracks them until they are used.

    @ivar store: the L{components.upload.store.FileStore}, for stored usage.
    @ivar maxFileSize: largest file, in bytes.
    @ivar quotaPerUser: bytes one user may have stored and pending (0: none).
    @ivar slotLifetime: seconds a slot waits for its upload.
    @ivar quotaTotal: bytes all users together may have stored and pending
        (0: none).
    """

    def __init__(self, store, maxFileSize, quotaPerUser=0, slotLifetime=300, clock=None,
                 quotaTotal=0):
        if clock is None:
            from twisted.internet import reactor as clock
        self.store = store
        self.maxFileSize = maxFileSize
        self.quotaPerUser = quotaPerUser
        self.slotLifetime = slotLifetime
        self.clock = clock
        self.quotaTotal = quotaTotal
        self._pending = {}
        self._inFlight = {}
        self._open = {}  # owner -> bytes of their pending and in-flight slots
        self._openTotal = 0

    def request(self, owner, filename, size, contentType=None):
        """
        Grant a slot to C{owner} (a bare JID) for a file; C{size} is the
        attribute's text.  Raises a L{SlotError} when it cannot.
        """
        filename = cleanFilename(filename)
        size = _parseSize(size)
        contentType = _contentType(contentType)
        if size > self.maxFileSize:
            raise FileTooLarge(self.maxFileSize)
        if self.quotaPerUser and self.usage(owner) + size > self.quotaPerUser:
            raise QuotaExceeded(f"Quota reached: {self.quotaPerUser} bytes per user")
        if self.quotaTotal and self.totalUsage() + size > self.quotaTotal:
            raise QuotaExceeded("The service's storage is full")
        slot = Slot(secrets.token_urlsafe(24), owner, filename, size, contentType,
                    self.clock.seconds() + self.slotLifetime)
        self._pending[slot.token] = slot
        self._opened(slot, slot.size)
        return slot

    def _opened(self, slot, size):
        """Count C{size} more (or, negative, fewer) bytes open for C{slot}'s owner."""
        left = self._open.get(slot.owner, 0) + size
        if left:
            self._open[slot.owner] = left
        else:
            self._open.pop(slot.owner, None)
        self._openTotal += size

    def usage(self, owner):
        """Bytes C{owner} has stored plus those of their open slots."""
        return self.store.usage(owner) + self._open.get(owner, 0)

    def totalUsage(self):
        """Bytes stored for everyone plus those of all open slots."""
        return self.store.totalUsage + self._openTotal

    def pending(self, token):
        """The slot C{token} if it still waits for its upload, else None."""
        slot = self._pending.get(token)
        if slot is not None and slot.expires <= self.clock.seconds():
            del self._pending[token]
            self._opened(slot, -slot.size)
            return None
        return slot

    def claim(self, token):
        """Take the pending slot C{token} for an upload; None if there is none."""
        slot = self.pending(token)
        if slot is not None:
            self._inFlight[token] = self._pending.pop(token)
        return slot

    def cancel(self, token):
        """Withdraw a pending slot that could not be handed out."""
        slot = self._pending.pop(token, None)
        if slot is not None:
            self._opened(slot, -slot.size)

    def release(self, token):
        """End a claimed slot: its file is stored (or failed to be)."""
        slot = self._inFlight.pop(token, None)
        if slot is not None:
            self._opened(slot, -slot.size)

    def expireSlots(self):
        """Forget pending slots whose time is up; return how many."""
        now = self.clock.seconds()
        expired = [t for t, s in self._pending.items() if s.expires <= now]
        for token in expired:
            slot = self._pending.pop(token)
            self._opened(slot, -slot.size)
        return len(expired)
