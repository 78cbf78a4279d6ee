"""
Tests for L{jabberd.tls.certificates}: the self-signed certificate, the TLS context
and the direct TLS endpoint description.
"""

import os
import stat

import pytest
from cryptography import x509
from twisted.internet import endpoints, reactor

from jabberd import config as configmod
from jabberd.tls import certificates as tls


def makeConfig(path, domains="localhost example.org", extra=""):
    text = "[server]\ndomains = %s\ndatadir = %s\n%s" % (domains, path, extra)
    return configmod.parse(text)


def sanNames(path):
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return sorted(san.value.get_values_for_type(x509.DNSName))


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One self-signed certificate for the module (RSA key generation is the slow part)."""
    config = makeConfig(str(tmp_path_factory.mktemp("tls")))
    return config, tls.ensureSelfSigned(config)


def test_selfSignedNamesEveryDomain(made):
    """The generated certificate lists every served domain as a dNSName."""
    config, (certPath, _) = made
    assert certPath.startswith(config.server.datadir)
    assert sanNames(certPath) == ["example.org", "localhost"]


def test_privateKeyIsPrivate(made):
    """The generated private key is readable by its owner only."""
    _, (_, keyPath) = made
    assert stat.S_IMODE(os.stat(keyPath).st_mode) == 0o600


def test_reusedOnNextStart(made):
    """A second start reuses the certificate instead of making a new one."""
    config, (certPath, _) = made
    with open(certPath, "rb") as f:
        before = f.read()
    assert tls.ensureSelfSigned(config) == made[1]
    with open(certPath, "rb") as f:
        assert f.read() == before


def test_remadeWhenDomainsChange(made, tmp_path):
    """A certificate for other domains is replaced by one for the configured domains."""
    config, (certPath, keyPath) = made
    directory = tmp_path / "tls"
    directory.mkdir()
    for path in (certPath, keyPath):
        (directory / os.path.basename(path)).write_bytes(open(path, "rb").read())
    other = makeConfig(str(tmp_path), domains="chat.example.net")
    newCert, _ = tls.ensureSelfSigned(other)
    assert sanNames(newCert) == ["chat.example.net"]


def test_contextFactory(made):
    """The server context factory builds an OpenSSL context with the certificate."""
    config, _ = made
    context = tls.serverContextFactory(config).getContext()
    assert context.get_cert_store() is not None


def test_wrapEndpoint(made):
    """A tcp: listener becomes an ssl: one that Twisted can build, options kept."""
    config, (certPath, keyPath) = made
    description = tls.wrapEndpoint("tcp:0:interface=127.0.0.1", config)
    assert description.startswith("ssl:0:interface=127.0.0.1:")
    endpoint = endpoints.serverFromString(reactor, description)
    assert isinstance(endpoint, endpoints.SSL4ServerEndpoint)


def test_wrapEndpointKeepsSSL(made):
    """An ssl: description is already direct TLS and is returned unchanged."""
    config, _ = made
    assert tls.wrapEndpoint("ssl:5223:privateKey=k.pem", config) == "ssl:5223:privateKey=k.pem"


def test_wrapEndpointRefusesOthers(made):
    """Only tcp: listeners can be wrapped."""
    with pytest.raises(ValueError):
        tls.wrapEndpoint("unix:/tmp/sock", made[0])


def test_configuredChain(made, tmp_path):
    """A configured certificate file with a chain yields a separate chain file."""
    _, (certPath, keyPath) = made
    bundle = tmp_path / "fullchain.pem"
    cert = open(certPath, "rb").read()
    bundle.write_bytes(cert + cert)
    config = makeConfig(str(tmp_path / "data"),
                        extra="certificate = %s\nprivate_key = %s\n" % (bundle, keyPath))
    certFile, keyFile, chain = tls.certificateFiles(config)
    assert (certFile, keyFile) == (str(bundle), keyPath)
    assert open(chain, "rb").read() == cert
    assert len(tls.serverContextFactory(config).extraCertChain) == 1
