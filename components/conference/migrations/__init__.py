# -*- test-case-name: tests.components.conference.test_muc_store -*-
"""
The conference component's schema migrations (persistent rooms, XEP-0045
section 4.2): a chain of its own with its own version table, so the rooms
may live in the server's database or in another one.
"""

import os

from jabberd.storage.migrations import MigrationChain

__all__ = ["CONFERENCE"]

CONFERENCE = MigrationChain(os.path.dirname(os.path.abspath(__file__)),
                            "alembic_version_conference",
                            "components.conference.store:metadata")
