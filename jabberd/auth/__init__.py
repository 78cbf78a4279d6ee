"""
Passwords and what is stored of them: SCRAM salted credentials
(RFC 5802, RFC 7677; L{credentials}) and SASLprep (RFC 4013; L{saslprep}).
The SASL exchanges themselves are the client stream's (L{jabberd.c2s.sasl}).
"""
