# -*- test-case-name: tests.tls.test_certificates -*-
"""
The server's TLS certificate and contexts (RFC 6120 section 5, RFC 7590,
XEP-0368).

The certificate comes from C{[server] certificate} / C{private_key} (PEM;
the certificate file may hold the chain after the server certificate, and
the key too when C{private_key} is empty).  Without one, a self-signed
certificate naming every served domain in subjectAltName dNSName entries
is made on first start in C{DATADIR/tls/} and reused afterwards (made
again when the domains change or it expires).

 - L{serverContextFactory}: the context for STARTTLS
   (C{transport.startTLS}) and any TLS listener;
 - L{wrapEndpoint}: a C{tcp:} listener description turned into the
   C{ssl:} one for direct TLS.
"""

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from OpenSSL import crypto
from twisted.internet import ssl
from twisted.internet.endpoints import quoteStringArgument
from jabberd.logs import Logger

__all__ = ["certificateFiles", "ensureSelfSigned", "makeSelfSigned",
           "serverContextFactory", "wrapEndpoint"]

log = Logger()

_VALIDITY = datetime.timedelta(days=3650)


def _tlsDir(config):
    return os.path.join(config.server.datadir, "tls")


def certificateFiles(config):
    """
    Return (certificate path, private key path, chain path or None) for
    C{config}, making the self-signed pair if none is configured.  The chain
    file holds the intermediates found after the first certificate.
    """
    if not config.server.certificate:
        cert, key = ensureSelfSigned(config)
        return cert, key, None
    cert = config.server.certificate
    key = config.server.privateKey or cert
    with open(cert, "rb") as f:
        certs = x509.load_pem_x509_certificates(f.read())
    if len(certs) < 2:
        return cert, key, None
    chain = os.path.join(_tlsDir(config), "chain.pem")
    _writeFile(chain, b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs[1:]),
               0o644)
    return cert, key, chain


def ensureSelfSigned(config):
    """
    Return (cert path, key path) of the self-signed certificate for the
    configured domains, making it when missing, stale or for other domains.
    """
    directory = _tlsDir(config)
    certPath = os.path.join(directory, "cert.pem")
    keyPath = os.path.join(directory, "key.pem")
    if _usable(certPath, keyPath, config.server.domains):
        return certPath, keyPath
    certPEM, keyPEM = makeSelfSigned(config.server.domains)
    _writeFile(keyPath, keyPEM, 0o600)
    _writeFile(certPath, certPEM, 0o644)
    log.info("made a self-signed certificate for {domains} in {path}",
             domains=", ".join(config.server.domains), path=certPath)
    return certPath, keyPath


def _usable(certPath, keyPath, domains):
    """Whether an existing certificate names exactly C{domains} and is valid now."""
    if not (os.path.exists(certPath) and os.path.exists(keyPath)):
        return False
    try:
        with open(certPath, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, x509.ExtensionNotFound):
        return False
    now = datetime.datetime.now(datetime.timezone.utc)
    fresh = cert.not_valid_before_utc <= now < cert.not_valid_after_utc
    return fresh and set(names.value.get_values_for_type(x509.DNSName)) == set(domains)


def makeSelfSigned(domains):
    """Return (certificate PEM, private key PEM) of a new self-signed server certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domains[0])])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in domains]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    keyPEM = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), keyPEM


def _writeFile(path, data, mode):
    """Write C{data} to C{path} atomically, created with permissions C{mode}."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def serverContextFactory(config):
    """The TLS server context (certificate, key and chain) for STARTTLS and TLS listeners."""
    certPath, keyPath, _ = certificateFiles(config)
    with open(certPath, "rb") as f:
        certs = x509.load_pem_x509_certificates(f.read())
    with open(keyPath, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    return ssl.CertificateOptions(
        privateKey=crypto.PKey.from_cryptography_key(key),
        certificate=crypto.X509.from_cryptography(certs[0]),
        extraCertChain=[crypto.X509.from_cryptography(c) for c in certs[1:]],
    )


def wrapEndpoint(description, config):
    """
    Turn the listener C{description} (C{tcp:PORT[:options]}) into the
    C{ssl:} endpoint description for direct TLS with this server's
    certificate (XEP-0368).  An C{ssl:} description is returned unchanged.
    """
    kind, _, rest = description.partition(":")
    if kind == "ssl":
        return description
    if kind != "tcp":
        raise ValueError("direct TLS needs a tcp: listener, got %r" % (description,))
    certPath, keyPath, chainPath = certificateFiles(config)
    parts = [rest, "privateKey=" + quoteStringArgument(keyPath),
             "certKey=" + quoteStringArgument(certPath)]
    if chainPath:
        parts.append("extraCertChain=" + quoteStringArgument(chainPath))
    return "ssl:" + ":".join(parts)
