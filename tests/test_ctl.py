"""
jabberdctl: the account commands on a store, username and password input,
usage errors (exit 2) without touching storage, and the whole program run
as a process against an SQLite configuration.
"""

import io
import os
import shutil
import subprocess
import sys
import tempfile

from twisted.internet import defer
from twisted.trial import unittest

from jabberd import ctl
from jabberd.auth.credentials import checkPassword
from jabberd.storage import RosterItem
from jabberd.storage.memory import MemoryStorage
from jabberd.storage.records import NodeConfig
from jabberd.storage.sql import SQLStorage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CREDS = {"plain": "secret"}

CONFIG = """\
[server]
domains = example.com, example.net
datadir = data

[c2s]
scram_iterations = 1024
"""


class TempConfigMixin:
    """A configuration file with an SQLite store in a temporary directory."""

    def makeConfig(self):
        self.dir = tempfile.mkdtemp(prefix="jabberd-ctl-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.config = os.path.join(self.dir, "jabberd.ini")
        with open(self.config, "w") as f:
            f.write(CONFIG)
        self.database = os.path.join(self.dir, "data", "jabberd.db")


class ExecuteTests(unittest.TestCase):
    """The commands on a memory store."""

    def setUp(self):
        self.storage = MemoryStorage()
        self.out, self.err = io.StringIO(), io.StringIO()

    def run_(self, command, username=None, credentials=None):
        return ctl.execute(self.storage, command, username, credentials, self.out, self.err)

    @defer.inlineCallbacks
    def test_adduser(self):
        """adduser creates the account with the given credentials and exits 0."""
        self.assertEqual((yield self.run_("adduser", "alice", CREDS)), 0)
        self.assertEqual((yield self.storage.accounts.get("alice")), CREDS)
        self.assertIn("alice", self.out.getvalue())

    @defer.inlineCallbacks
    def test_adduserExists(self):
        """adduser of an existing user exits 1, says so and keeps the old credentials."""
        yield self.storage.accounts.create("alice", CREDS)
        self.assertEqual((yield self.run_("adduser", "alice", {"plain": "other"})), 1)
        self.assertIn("exists", self.err.getvalue())
        self.assertEqual((yield self.storage.accounts.get("alice")), CREDS)

    @defer.inlineCallbacks
    def test_passwd(self):
        """passwd replaces the credentials of an existing user and exits 0."""
        yield self.storage.accounts.create("alice", CREDS)
        self.assertEqual((yield self.run_("passwd", "alice", {"plain": "new"})), 0)
        self.assertEqual((yield self.storage.accounts.get("alice")), {"plain": "new"})

    @defer.inlineCallbacks
    def test_passwdUnknown(self):
        """passwd of an unknown user exits 1 with a message and creates nothing."""
        self.assertEqual((yield self.run_("passwd", "bob", CREDS)), 1)
        self.assertIn("no such user", self.err.getvalue())
        self.assertFalse((yield self.storage.accounts.exists("bob")))

    @defer.inlineCallbacks
    def test_deluser(self):
        """deluser removes the account and its data and exits 0."""
        yield self.storage.accounts.create("alice", CREDS)
        yield self.storage.roster.set("alice", RosterItem(jid="bob@example.com"))
        self.assertEqual((yield self.run_("deluser", "alice")), 0)
        self.assertFalse((yield self.storage.accounts.exists("alice")))
        self.assertEqual((yield self.storage.roster.items("alice")), [])

    @defer.inlineCallbacks
    def test_deluserRemovesPEPNodes(self):
        """deluser removes the user's PEP nodes at every domain, and no one else's."""
        yield self.storage.accounts.create("alice", CREDS)
        for service in ("alice@example.com", "alice@example.net", "bob@example.com"):
            yield self.storage.pubsub.createNode(service, "urn:test", NodeConfig())
        code = yield ctl.execute(self.storage, "deluser", "alice", None, self.out, self.err,
                                 domains=["example.com", "example.net"])
        self.assertEqual(code, 0)
        for service, expected in (("alice@example.com", []), ("alice@example.net", []),
                                  ("bob@example.com", ["urn:test"])):
            nodes = yield self.storage.pubsub.listNodes(service)
            self.assertEqual([n.node for n in nodes], expected)

    @defer.inlineCallbacks
    def test_deluserUnknown(self):
        """deluser of an unknown user exits 1 with a message."""
        self.assertEqual((yield self.run_("deluser", "bob")), 1)
        self.assertIn("no such user", self.err.getvalue())

    @defer.inlineCallbacks
    def test_users(self):
        """users prints one username per line, sorted."""
        for name in ("carol", "alice"):
            yield self.storage.accounts.create(name, CREDS)
        self.assertEqual((yield self.run_("users")), 0)
        self.assertEqual(self.out.getvalue(), "alice\ncarol\n")


class InputTests(unittest.TestCase):
    """Usernames and passwords as given on the command line."""

    def test_usernamePrepared(self):
        """A username is nodeprep'd, so it is stored as the server looks it up."""
        self.assertEqual(ctl.prepareUsername("Alice", ["example.com"]), "alice")

    def test_usernameAsJID(self):
        """A bare JID at a served domain gives its prepared localpart."""
        self.assertEqual(ctl.prepareUsername("Alice@Example.com", ["example.com"]), "alice")

    def test_usernameForeignDomain(self):
        """A JID at a domain this server does not serve is a usage error."""
        self.assertRaises(ctl.UsageError, ctl.prepareUsername, "alice@other.org", ["example.com"])

    def test_usernameInvalid(self):
        """Characters nodeprep prohibits, an empty and an over-long name are usage errors."""
        for raw in ("a:b", "a b", "", "x" * 1024):
            self.assertRaises(ctl.UsageError, ctl.prepareUsername, raw, ["example.com"])

    def test_passwordOption(self):
        """A password given as an option is used as it is."""
        self.assertEqual(ctl.readPassword("s3cret ", io.StringIO()), "s3cret ")

    def test_passwordFromStdin(self):
        """Without the option and a terminal, the password is the first line of stdin."""
        self.assertEqual(ctl.readPassword(None, io.StringIO("pässword\nrest\n")), "pässword")

    def test_passwordEmpty(self):
        """An empty password is a usage error."""
        self.assertRaises(ctl.UsageError, ctl.readPassword, None, io.StringIO("\n"))


class UsageTests(TempConfigMixin, unittest.TestCase):
    """Usage errors exit 2 before the storage is opened (no reactor needed)."""

    def setUp(self):
        self.makeConfig()
        self.patch(sys, "stderr", io.StringIO())

    def test_noCommand(self):
        """Without a command, jabberdctl exits 2."""
        self.assertEqual(ctl.main([]), 2)

    def test_unknownCommand(self):
        """An unknown command exits 2."""
        self.assertEqual(ctl.main(["frobnicate", "-c", self.config]), 2)

    def test_missingConfig(self):
        """An unreadable configuration file exits 2 with a message naming it."""
        missing = os.path.join(self.dir, "missing.ini")
        self.assertEqual(ctl.main(["users", "-c", missing]), 2)
        self.assertIn("missing.ini", sys.stderr.getvalue())

    def test_invalidUsername(self):
        """An invalid username exits 2 with a message and creates no database."""
        self.assertEqual(ctl.main(["-c", self.config, "deluser", "a:b"]), 2)
        self.assertIn("not a valid username", sys.stderr.getvalue())
        self.assertFalse(os.path.exists(self.database))

    def test_emptyPassword(self):
        """adduser with an empty password on stdin exits 2."""
        self.assertEqual(ctl.main(["adduser", "-c", self.config, "alice"], io.StringIO("\n")), 2)

    def test_configBeforeOrAfterCommand(self):
        """-c is accepted before and after the command."""
        parser = ctl.buildParser()
        self.assertEqual(parser.parse_args(["-c", "a.ini", "users"]).config, "a.ini")
        self.assertEqual(parser.parse_args(["users", "-c", "b.ini"]).config, "b.ini")
        self.assertEqual(parser.parse_args(["users"]).config, "etc/jabberd.ini")


class ProcessTests(TempConfigMixin, unittest.TestCase):
    """jabberdctl as a process on an SQLite store (task.react stops the reactor, so one per run)."""

    def setUp(self):
        self.makeConfig()

    def jabberdctl(self, *args, stdin=""):
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        return subprocess.run([sys.executable, "-m", "jabberd.ctl", *args], input=stdin,
                              capture_output=True, text=True, cwd=self.dir, env=env, timeout=30)

    @defer.inlineCallbacks
    def storageCheck(self, check):
        storage = SQLStorage("sqlite:///" + self.database)
        try:
            result = yield check(storage)
        finally:
            yield storage.close()
        return result

    @defer.inlineCallbacks
    def test_accountLifecycle(self):
        """adduser, users, passwd and deluser change the store and exit 0; repeating add or delete exits 1."""
        added = self.jabberdctl("adduser", "-c", "jabberd.ini", "Alice", stdin="first\n")
        self.assertEqual(added.returncode, 0, added.stderr)
        creds = yield self.storageCheck(lambda s: s.accounts.get("alice"))
        self.assertTrue(checkPassword(creds, "first"))
        self.assertEqual(creds["SCRAM-SHA-256"]["iterations"], 1024)
        again = self.jabberdctl("-c", "jabberd.ini", "adduser", "alice", "--password", "x")
        self.assertEqual((again.returncode, "exists" in again.stderr), (1, True))
        listed = self.jabberdctl("users", "-c", "jabberd.ini")
        self.assertEqual((listed.returncode, listed.stdout), (0, "alice\n"))
        changed = self.jabberdctl("passwd", "-c", "jabberd.ini", "alice@example.net", "-p", "second")
        self.assertEqual(changed.returncode, 0, changed.stderr)
        creds = yield self.storageCheck(lambda s: s.accounts.get("alice"))
        self.assertEqual((checkPassword(creds, "second"), checkPassword(creds, "first")), (True, False))
        deleted = self.jabberdctl("deluser", "-c", "jabberd.ini", "alice")
        self.assertEqual(deleted.returncode, 0, deleted.stderr)
        self.assertEqual((yield self.storageCheck(lambda s: s.accounts.list())), [])
        gone = self.jabberdctl("deluser", "-c", "jabberd.ini", "alice")
        self.assertEqual((gone.returncode, "no such user" in gone.stderr), (1, True))
