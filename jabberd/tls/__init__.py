"""
TLS for every stream (RFC 6120 section 5, XEP-0368): the server's
certificates and contexts (L{certificates}), the server-side transport
where OpenSSL does the handshake (L{transport}), and the TLS 1.3 record
layer that carries a connection afterwards (L{records}, RFC 8446 section 5).
"""
