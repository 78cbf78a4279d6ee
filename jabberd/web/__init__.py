"""
What the server serves over HTTP (RFC 9110): the one site (L{site}) with
BOSH (XEP-0124/XEP-0206, L{bosh}), XMPP over WebSocket (RFC 7395,
L{websocket}), what the two framings of the client stream share
(L{framing}), and the web chat page (L{webchat}).
"""
