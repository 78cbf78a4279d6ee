"""The C{twistd jabberd-component} plugin: see L{jabberd.componenttap}."""

from twisted.application.service import ServiceMaker

jabberdComponent = ServiceMaker("jabberd-component", "jabberd.componenttap",
                                "Run a jabberd component out of process (XEP-0114)",
                                "jabberd-component")
