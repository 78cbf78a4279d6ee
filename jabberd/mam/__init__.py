# -*- test-case-name: tests.mam.test_query,tests.mam.test_ids,tests.mam.test_writer -*-
"""
Message Archive Management (XEP-0313) parts shared by every archive this
server keeps: users' archives (L{jabberd.sm.mam}) and rooms' archives
(L{components.conference.archive}).

L{query} reads a query (data form, XEP-0059 paging) and builds its results;
L{ids} stamps and strips XEP-0359 stanza-ids; L{writer} commits archived
messages in order, in groups.  None of them knows whose archive it serves.
"""
