"""The C{twistd jabberd} plugin: see L{jabberd.tap}."""

from twisted.application.service import ServiceMaker

jabberd = ServiceMaker("jabberd", "jabberd.tap", "An XMPP server modeled on jabberd 1.4", "jabberd")
