# -*- test-case-name: tests.components.upload.test_upload_component -*-
"""
The upload component's settings, read from its C{[component:DOMAIN]}
section (XEP-0363 leaves limits and retention to the service).

Sizes accept a K, M or G suffix (powers of 1024); durations are seconds.
A bad value is a L{ConfigError} naming the section and key.
"""

import os
from dataclasses import dataclass

from jabberd.config import ConfigError, Section

__all__ = ["UploadOptions", "parseSize"]

_UNITS = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}


def parseSize(raw):
    """Parse C{raw} (C{"10485760"}, C{"10M"}) as a non-negative byte count."""
    text = raw.strip().lower().removesuffix("b")
    factor = _UNITS.get(text[-1:], 1)
    if factor != 1:
        text = text[:-1]
    if not (text.isascii() and text.isdigit()):
        raise ValueError(raw)
    return int(text) * factor


@dataclass
class UploadOptions:
    """
    @ivar maxFileSize: largest file accepted, in bytes.
    @ivar quotaPerUser: bytes one account may keep stored (0: no quota).
    @ivar quotaTotal: bytes all accounts together may keep stored (0: no
        quota); with open registration the per-account quota alone bounds
        nothing.
    @ivar expireAfter: seconds a file is kept (0: forever).
    @ivar slotLifetime: seconds a slot may wait for its upload.
    @ivar cleanupInterval: seconds between sweeps of expired files and slots.
    @ivar directory: where files and their metadata live.
    @ivar httpPath: path segment the resource is mounted at on the HTTP site.
    @ivar publicURL: URL prefix of uploaded files (behind a reverse proxy);
        empty: the HTTP site's public URL plus C{httpPath}.
    """

    maxFileSize: int = 10 * 1024 ** 2
    quotaPerUser: int = 1024 ** 3
    quotaTotal: int = 10 * 1024 ** 3
    expireAfter: int = 7 * 24 * 3600
    slotLifetime: int = 300
    cleanupInterval: int = 600
    directory: str = ""
    httpPath: str = "upload"
    publicURL: str = ""

    @classmethod
    def fromConfig(cls, config, componentConfig):
        """Read the options of C{componentConfig} (a L{ComponentConfig})."""
        section = Section.ofComponent(componentConfig)
        default = cls()

        def size(key, default):
            return section.int(key, default, parseSize, "a size or number")

        publicURL = section.str("public_url", "").rstrip("/")
        if publicURL and not publicURL.startswith(("http://", "https://")):
            raise ConfigError(f"[{section.name}] public_url: expected an http(s) URL, "
                              f"got {publicURL!r}")
        directory = section.str("directory", "")
        return cls(
            maxFileSize=size("max_file_size", default.maxFileSize),
            quotaPerUser=size("quota_per_user", default.quotaPerUser),
            quotaTotal=size("quota_total", default.quotaTotal),
            expireAfter=section.int("expire_after", default.expireAfter),
            slotLifetime=section.int("slot_lifetime", default.slotLifetime),
            cleanupInterval=section.int("cleanup_interval", default.cleanupInterval) or 600,
            directory=os.path.join(config.server.datadir, directory or "uploads"),
            httpPath=section.str("http_path", "upload").strip("/") or "upload",
            publicURL=publicURL,
        )
