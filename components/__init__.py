"""
Bundled components, and the plugin interface third-party components follow.

A component is a L{jabberd.host.Host} serving one domain, with handlers
attached (L{jabberd.handler.Handler}, L{jabberd.handler.IQHandler}).  A
plugin is a module (C{components.NAME}, or any importable dotted path)
with one function::

    def makeHost(config, componentConfig, storage):
        host = Host([componentConfig.domain])
        host.addHandler(...)
        return host

 - C{config}: the whole L{jabberd.config.Config};
 - C{componentConfig}: its L{jabberd.config.ComponentConfig}:
   C{domain}, C{trusted}, and C{options}, every other key of the section
   (plugin-specific settings, as strings);
 - C{storage}: the server's L{jabberd.storage} object in process.  Out of
   process it is None unless the module sets C{usesStorage = True}, in
   which case C{twistd jabberd-component} opens the C{[server] database}.

The host must serve C{componentConfig.domain}.  It neither knows nor cares
how it is attached: the server sets its output and feeds it stanzas.  The
same section runs either way::

    [component:echo.localhost]
    plugin = echo                ; in process, inside twistd jabberd

    [component:echo.localhost]
    plugin = echo
    secret = s3cret
    external = yes               ; its own process, over XEP-0114:
                                 ; twistd jabberd-component -c etc/jabberd.ini echo.localhost

A section without C{plugin} is a foreign component (any XEP-0114
implementation) that connects with C{secret}.  C{trusted = yes} lets a
component send from any address, not only its own domain.  See
L{components.echo} for a complete example.
"""
