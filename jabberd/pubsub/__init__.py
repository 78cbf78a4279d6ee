"""
Publish-Subscribe (XEP-0060): the node, item, configuration and access
logic every PubSub service shares, whoever owns the service.

 - L{jabberd.pubsub.errors}: the error conditions of XEP-0060 with their
   C{pubsub#errors} application conditions;
 - L{jabberd.pubsub.config}: node configuration (C{pubsub#node_config}),
   publish-options (section 7.1.5) and the service's limits;
 - L{jabberd.pubsub.access}: the access models (section 4.5);
 - L{jabberd.pubsub.service}: the engine (create, configure, publish,
   retract, purge, delete, items, subscriptions, affiliations) over an
   L{jabberd.storage.interfaces.IPubSubStore};
 - L{jabberd.pubsub.protocol}: C{<pubsub/>} payloads to engine calls and
   results back to XML, and the C{#event} notifications.

PEP (XEP-0163, L{jabberd.sm.pep}) is one user of it: the service is an
account's bare JID, its owner the account, standing comes from the roster
and notifications follow presence.  A C{pubsub.DOMAIN} component would be
another: its own standing and its own subscribers-only notifier on the
same engine.
"""
