# -*- test-case-name: tests.test_ctl -*-
"""
jabberdctl: account administration from the command line, on the storage
the server's configuration names::

    jabberdctl adduser -c etc/jabberd.ini alice [--password P]
    jabberdctl passwd  -c etc/jabberd.ini alice
    jabberdctl deluser -c etc/jabberd.ini alice
    jabberdctl users   -c etc/jabberd.ini
    jabberdctl cluster status -c etc/jabberd.ini

Usernames are localparts prepared with nodeprep (RFC 6122 appendix A),
as the server stores them; C{alice@example.com} is accepted when
C{example.com} is one of the configured domains.  Passwords are prompted
for on a terminal (twice), otherwise read as one line from standard input;
credentials are made as the server makes them (L{jabberd.auth.credentials}).

Exit codes: 0 done; 1 failed (user exists, no such user, storage error);
2 usage (bad arguments, invalid username, unusable configuration, empty
password).
"""

import argparse
import getpass
import sys

from twisted.internet import defer, task

from jabberd import config as configModule
from jabberd.auth.credentials import SASLprepError, makeCredentials
from jabberd.jidutil import MAX_PART, prepLocalpart
from jabberd.storage import UserExists, openStorage

__all__ = ["main", "execute", "prepareUsername", "UsageError"]

OK, FAILED, USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line cannot be carried out as given (exit code 2)."""


def buildParser():
    """The argument parser; C{-c} is accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: an absent -c after the command keeps the one given before it.
    common.add_argument("-c", "--config", default=argparse.SUPPRESS,
                        help="configuration file (default: etc/jabberd.ini)")
    parser = argparse.ArgumentParser(prog="jabberdctl", description="Manage jabberd accounts.")
    parser.add_argument("-c", "--config", default="etc/jabberd.ini",
                        help="configuration file (default: etc/jabberd.ini)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (("adduser", "create an account"),
                       ("passwd", "set an account's password")):
        sub = commands.add_parser(name, parents=[common], help=text, description=text)
        sub.add_argument("username")
        sub.add_argument("-p", "--password",
                         help="the password (visible to other local users; "
                              "by default it is prompted for or read from stdin)")
    sub = commands.add_parser("deluser", parents=[common], help="delete an account and all its data")
    sub.add_argument("username")
    commands.add_parser("users", parents=[common], help="list the accounts")
    sub = commands.add_parser("cluster", parents=[common], help="the nodes of the cluster",
                              description="the nodes of the [cluster]: sessions, rooms, "
                                          "components and counters of each")
    sub.add_argument("action", choices=["status"])
    return parser


def clusterStatus(config, out=None):
    """Print the status of every node of C{config}'s cluster; the exit code."""
    from jabberd.cluster.status import formatStatus, queryStatus

    out = out or sys.stdout
    if config.cluster is None:
        sys.stderr.write("jabberdctl: the configuration has no [cluster] section\n")
        return USAGE
    try:
        replies = queryStatus(config.cluster)
    except Exception as e:  # NATS unreachable, or gone during the query
        sys.stderr.write(f"jabberdctl: cannot ask the cluster: {e!r}\n")
        return FAILED
    out.write(formatStatus(replies) + "\n")
    return OK if replies else FAILED


def prepareUsername(raw, domains):
    """
    The stored form of the username C{raw} (a localpart, or a bare JID at
    one of C{domains}); L{UsageError} if it is not a valid localpart.
    """
    node, at, domain = raw.partition("@")
    if at and domain.lower() not in domains:
        raise UsageError(f"{raw!r}: {domain!r} is not a domain of this server "
                         f"({', '.join(domains)})")
    username = prepLocalpart(node)
    if username is None:
        raise UsageError(f"{raw!r} is not a valid username: empty, longer than "
                         f"{MAX_PART} bytes or with characters a localpart may not have")
    return username


def readPassword(given, stdin):
    """The password from the option, a terminal prompt or one line of stdin."""
    if given is not None:
        password = given
    elif stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise UsageError("the passwords do not match")
    else:
        password = stdin.readline().rstrip("\r\n")
    if not password:
        raise UsageError("the password must not be empty")
    return password


@defer.inlineCallbacks
def execute(storage, command, username=None, credentials=None, out=None, err=None,
            domains=()):
    """
    Carry out C{command} on C{storage}; a Deferred of the exit code.

    @param credentials: for adduser and passwd, from L{makeCredentials}.
    @param domains: the server's domains: deluser also removes the user's
        PEP nodes (XEP-0163), kept by JID, at each.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    if command == "users":
        for name in (yield storage.accounts.list()):
            out.write(name + "\n")
        return OK
    if command == "adduser":
        try:
            yield storage.accounts.create(username, credentials)
        except UserExists:
            err.write(f"jabberdctl: user {username!r} exists already\n")
            return FAILED
        out.write(f"added user {username!r}\n")
        return OK
    if command == "passwd":
        done = yield storage.accounts.set(username, credentials)
        message = f"password of {username!r} changed" if done else None
    else:
        done = yield storage.deleteUser(username)
        if done:
            for domain in domains:
                yield storage.pubsub.removeService(f"{username}@{domain}")
        message = f"deleted user {username!r} and all its data" if done else None
    if not done:
        err.write(f"jabberdctl: no such user {username!r}\n")
        return FAILED
    out.write(message + "\n")
    return OK


def _prepare(args, stdin):
    """Everything that can fail as a usage error, before any storage work."""
    config = configModule.load(args.config)
    username = credentials = None
    if args.command not in ("users", "cluster"):
        username = prepareUsername(args.username, config.server.domains)
    if args.command in ("adduser", "passwd"):
        password = readPassword(args.password, stdin)
        try:
            credentials = makeCredentials(password, config.c2s.scramIterations,
                                          config.c2s.storePlaintext)
        except SASLprepError as e:
            raise UsageError(f"password not allowed (RFC 4013 SASLprep): {e}")
    return config, username, credentials


def _run(reactor, storage, args, username, credentials, domains=()):
    def failed(failure):
        sys.stderr.write(f"jabberdctl: storage error: {failure.getErrorMessage()}\n")
        return FAILED

    def exit(code):
        # task.react exits 0 on success: a SystemExit failure carries the code.
        raise SystemExit(code)

    d = execute(storage, args.command, username, credentials, domains=domains)
    d.addErrback(failed)
    d.addCallback(lambda code: storage.close().addCallback(lambda _: code))
    return d.addCallback(exit)


def main(argv=None, stdin=None):
    """Run jabberdctl with C{argv} (default C{sys.argv[1:]}); returns the exit code."""
    try:
        args = buildParser().parse_args(argv)
    except SystemExit as e:  # argparse: usage errors (2) and --help (0)
        return e.code
    try:
        config, username, credentials = _prepare(args, stdin or sys.stdin)
    except (UsageError, configModule.ConfigError) as e:
        sys.stderr.write(f"jabberdctl: {e}\n")
        return USAGE
    if args.command == "cluster":
        return clusterStatus(config)
    try:
        storage = openStorage(config.server.database)
    except Exception as e:  # any driver's connection or migration error
        sys.stderr.write(f"jabberdctl: cannot open storage: {e}\n")
        return FAILED
    try:
        task.react(_run, (storage, args, username, credentials, config.server.domains))
    except SystemExit as e:
        return e.code
    return OK


if __name__ == "__main__":
    sys.exit(main())
