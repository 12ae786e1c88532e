"""scim2-server's storage contract, run against the SQL storage (SQLite, or PostgreSQL in CI)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scim2_models import ScimProvider
from scim2_server.testing import ScimStorageContract

from idp.db import Database
from idp.models import Tenant
from scim.schema import build_provider
from scim.storage import SqlStorage


class TestSqlStorageContract(ScimStorageContract):
    @pytest.fixture
    def provider(self) -> ScimProvider:
        return build_provider()

    @pytest.fixture
    def storage(self, database: Database, contoso: Tenant, provider: ScimProvider) -> Iterator[SqlStorage]:
        with database.sessionmaker() as session:
            tenant = session.merge(contoso)
            yield SqlStorage(session, tenant, provider)
            session.rollback()
