"""
Integration: jabberd's TLS layer against OpenSSL's own client,
C{openssl s_client} (STARTTLS for XMPP, TLS 1.3): the client asks for a key
update mid-stream (its C{K} command, RFC 8446 section 4.6.3) and the
stream goes on under the new keys; and a direct TLS client offering ALPN
(XEP-0368).
"""

import base64
import os
import select
import shutil
import socket
import ssl
import subprocess
import time

import pytest

HEADER = ("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
          "to='localhost' version='1.0'>\n")


def readUntil(stream, marker, timeout=10.0):
    """What s_client printed on C{stream} until C{marker} appeared (bounded in time)."""
    seen = b""
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_clientKeyUpdateWithOpenSSL(server):
    """
    After s_client's KeyUpdate (update requested), SASL still succeeds: the
    server reads under the client's new keys, and s_client reads what the
    server wrote after its own KeyUpdate in answer (whose contents
    tests/tls/test_records.py checks).
    """
    process = subprocess.Popen(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % server.ports["c2s"],
         "-starttls", "xmpp", "-xmpphost", "localhost", "-tls1_3", "-no_ign_eof"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        process.stdin.write(HEADER.encode())
        process.stdin.flush()
        assert b"SCRAM-SHA-1" in readUntil(process.stdout, b"</stream:features>")
        process.stdin.write(b"K\n")  # KeyUpdate, and ask the server for one
        process.stdin.flush()
        # s_client reads a command line on its own (a line after it in the
        # same read would be swallowed): wait until it has done the update.
        assert b"KEYUPDATE" in readUntil(process.stderr, b"KEYUPDATE")
        credentials = base64.b64encode(b"\0alice\0alicepw").decode()
        process.stdin.write(("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
                             "%s</auth>\n" % credentials).encode())
        process.stdin.flush()
        assert b"<success" in readUntil(process.stdout, b"<success")
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_directTLSWithALPN(server):
    """A direct TLS client offering ALPN xmpp-client (XEP-0368) gets it selected and its stream features."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["xmpp-client"])
    raw = socket.create_connection(("127.0.0.1", server.ports["c2s-tls"]), timeout=10)
    with context.wrap_socket(raw, server_hostname="localhost") as sock:
        assert sock.selected_alpn_protocol() == "xmpp-client"
        sock.sendall(HEADER.encode())
        data = b""
        while b"</stream:features>" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    assert b"urn:ietf:params:xml:ns:xmpp-sasl" in data
