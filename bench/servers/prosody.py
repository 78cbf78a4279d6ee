"""
Prosody (Debian package C{prosody}) under benchmark: its own config file,
data dir and ports (c2s 15222, HTTP/BOSH 15280, s2s 15269 in the abuse
scenario), started in the foreground
with C{prosody -F --config FILE}, accounts made by in-band registration
(XEP-0077, open to 127.0.0.1 only).

In the archive scenarios (L{bench.servers.ARCHIVE_SCENARIOS}) it loads
C{mod_mam} with C{default_archive_policy = true} (archive every message) on
the bench's own storage (C{internal}); that storage refuses an archive past
C{storage_archive_item_limit} (10000 by default) items, so the limit is
raised to hold the 100,000-message archive of the mamquery scenario.  In
the PEP scenarios (L{bench.servers.PEP_SCENARIOS}) it loads C{mod_pep},
which asks contacts' caps (XEP-0115) itself.
"""

import os
import shutil

from bench.servers import ServerUnderTest

__all__ = ["Prosody"]


class Prosody(ServerUnderTest):
    """Prosody 0.12, one process, one core."""

    name = "prosody"
    c2sPort = 15222
    httpPort = 15280
    s2sPort = 15269
    boshPath = "/http-bind"
    archiveItemLimit = 1000000

    @classmethod
    def missing(cls):
        return None if shutil.which("prosody") else "prosody is not installed (use --install)"

    def configure(self):
        datadir = os.path.join(self.workdir, "data")
        os.makedirs(datadir, exist_ok=True)
        self.configPath = os.path.join(self.workdir, "prosody.cfg.lua")
        with open(self.configPath, "w", encoding="utf-8") as f:
            f.write(self.template("prosody.cfg.lua.in", workdir=self.workdir, datadir=datadir,
                                  c2sPort=self.c2sPort, httpPort=self.httpPort,
                                  cert=self.cert, key=self.key, domain=self.domain,
                                  mucDomain=self.mucDomain, **self.archiveSettings(),
                                  **self.s2sSettings(),
                                  pepModules=('\t"pep"; -- XEP-0163, pepfanout only\n'
                                              if self.pep and not self.deployment else "")))

    def archiveSettings(self):
        """
        The template's C{mod_mam} lines (empty unless this scenario
        archives) and, in the deployment profile, the modules of stream
        management, carbons and PEP.
        """
        modules = ('\t"smacks"; "carbons"; "pep"; -- deployment profile\n'
                   if self.deployment else "")
        if not self.archiving:
            return {"mamModules": modules, "mamOptions": ""}
        return {"mamModules": modules + '\t"mam"; -- XEP-0313: archive scenarios, deployment\n',
                "mamOptions": ("default_archive_policy = true\n"
                               f"storage_archive_item_limit = {self.archiveItemLimit}\n")}

    def s2sSettings(self):
        """
        s2s off, except in the abuse scenario: plain dialback (mod_dialback)
        on the s2s port, encryption not required, as jabberd's and ejabberd's
        there, so the dialback flood's bytes reach each server's dialback.
        """
        if not self.federating:
            return {"s2sPorts": "", "dialbackModule": "",
                    "s2sOptions": 'modules_disabled = { "s2s" }'}
        return {"s2sPorts": str(self.s2sPort),
                "dialbackModule": '\t"dialback"; -- XEP-0220, abuse scenario only\n',
                "s2sOptions": "s2s_require_encryption = false\ns2s_secure_auth = false"}

    def command(self):
        return ["prosody", "-F", "--config", self.configPath], None, self.workdir
