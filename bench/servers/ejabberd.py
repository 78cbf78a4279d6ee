"""
ejabberd (Debian package C{ejabberd}) under benchmark: its own config dir,
spool (Mnesia) dir, log dir and Erlang node name, so nothing clashes with a
system instance; ports c2s 25222 and HTTP/BOSH 25280 (s2s 25269 in the abuse scenario).  Started with
C{ejabberdctl ... foreground} as the C{ejabberd} user (via C{setpriv});
C{ERL_OPTIONS="+S 1:1"} in its own ejabberdctl.cfg gives it one scheduler.
Accounts are made by in-band registration (XEP-0077, loopback only).
In the archive scenarios (L{bench.servers.ARCHIVE_SCENARIOS}) C{mod_mam}
runs with C{default: always} on the bench's database (Mnesia, the default:
the template sets no C{default_db}); in the PEP scenarios
(L{bench.servers.PEP_SCENARIOS}) C{mod_pubsub} (plugin C{pep}) and
C{mod_caps}.
"""

import os
import shutil
import subprocess

from bench.servers import ServerError, ServerUnderTest

__all__ = ["Ejabberd"]

# PEP (XEP-0163) for the PEP scenarios: mod_pubsub's pep plugin, on the
# default database (Mnesia), and mod_caps, by which it notifies contacts
# who advertise NODE+notify (XEP-0115).
PEP_MODULES = ("  mod_caps: {}\n"
               "  mod_pubsub:\n"
               "    plugins:\n      - flat\n      - pep\n")


class Ejabberd(ServerUnderTest):
    """ejabberd 23.01, one Erlang VM with one scheduler, one core."""

    name = "ejabberd"
    c2sPort = 25222
    httpPort = 25280
    s2sPort = 25269
    boshPath = "/http-bind"
    user = "ejabberd"

    @classmethod
    def missing(cls):
        return None if shutil.which("ejabberdctl") else "ejabberd is not installed (use --install)"

    def configure(self):
        self.spool = os.path.join(self.workdir, "spool")
        self.logs = os.path.join(self.workdir, "logs")
        for d in (self.spool, self.logs):
            os.makedirs(d, exist_ok=True)
        # ejabberd wants certificate and key in one PEM file.
        self.certfile = os.path.join(self.workdir, "server.pem")
        with open(self.certfile, "w") as out:
            for part in (self.cert, self.key):
                with open(part) as f:
                    out.write(f.read())
        self.node = f"bench-ejabberd-{os.getpid()}@localhost"
        self.configPath = os.path.join(self.workdir, "ejabberd.yml")
        self.ctlConfigPath = os.path.join(self.workdir, "ejabberdctl.cfg")
        with open(self.configPath, "w") as f:
            f.write(self.template("ejabberd.yml.in", domain=self.domain, certfile=self.certfile,
                                  c2sPort=self.c2sPort, httpPort=self.httpPort,
                                  boshPath=self.boshPath, mucDomain=self.mucDomain,
                                  mamModule=self.extraModules(), **self.s2sSettings(),
                                  pepModule=PEP_MODULES if self.pep and not self.deployment
                                  else ""))
        with open(self.ctlConfigPath, "w") as f:
            f.write(self.template("ejabberdctl.cfg.in", node=self.node))
        if os.path.exists("/etc/ejabberd/inetrc"):
            shutil.copy("/etc/ejabberd/inetrc", os.path.join(self.workdir, "inetrc"))
        if os.getuid() == 0:
            # ejabberdctl run by root switches to the ejabberd user.
            try:
                subprocess.run(["chown", "-R", f"{self.user}:", self.workdir],
                               check=True, capture_output=True, timeout=30)
            except subprocess.CalledProcessError as e:
                raise ServerError(f"chown for ejabberd failed: {e.stderr!r}")

    def s2sSettings(self):
        """
        No s2s listener, except in the abuse scenario: ejabberd_s2s_in with
        dialback (mod_s2s_dialback), STARTTLS optional, as the others there.
        """
        if not self.federating:
            return {"s2sListener": "", "s2sModule": "", "s2sOptions": ""}
        return {"s2sListener": (f"  -\n    port: {self.s2sPort}\n    ip: \"127.0.0.1\"\n"
                                "    module: ejabberd_s2s_in\n    shaper: none\n"),
                "s2sModule": "  mod_s2s_dialback: {}\n",
                "s2sOptions": "s2s_use_starttls: optional\n"}
    def extraModules(self):
        """
        Modules beyond the template's: C{mod_mam} (every message) when this
        scenario archives, and in the deployment profile stream management,
        carbons, PubSub with its PEP plugin, and caps.
        """
        text = "  mod_mam:\n    default: always\n" if self.archiving else ""
        if self.deployment:
            text += ("  mod_stream_mgmt: {}\n  mod_carboncopy: {}\n  mod_caps: {}\n"
                     "  mod_pubsub:\n    plugins:\n      - flat\n      - pep\n")
        return text

    def command(self):
        env = None
        prefix = []
        if os.getuid() == 0:
            # Become the ejabberd user ourselves: ejabberdctl would use su,
            # whose PAM session drops the open-files limit back to 1024.
            prefix = ["setpriv", f"--reuid={self.user}", f"--regid={self.user}",
                      "--init-groups"]
            env = dict(os.environ, HOME=self.workdir)
        argv = prefix + ["ejabberdctl", "--config-dir", self.workdir, "--config", self.configPath,
                "--ctl-config", self.ctlConfigPath, "--spool", self.spool,
                "--logs", self.logs, "--node", self.node, "foreground"]
        return argv, env, self.workdir
