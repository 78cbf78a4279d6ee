"""
jabberd: an XMPP server on Twisted, modeled on jabberd 1.4.

Importing the package installs the small compatibility shim wokkel needs on
current Twisted (see L{jabberd.compat}) so every module may import wokkel.
"""

from jabberd import compat as _compat  # noqa: F401  (must precede wokkel)

__version__ = "0.1.0"
