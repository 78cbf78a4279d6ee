"""The C{twistd jabberd-component} plugin: see L{jabberd.component.tap}."""

from twisted.application.service import ServiceMaker

jabberdComponent = ServiceMaker("jabberd-component", "jabberd.component.tap",
                                "Run a jabberd component out of process (XEP-0114)",
                                "jabberd-component")
