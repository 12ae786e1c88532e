"""Fixtures for the admin center: signed-in administrators of contoso by role."""

from __future__ import annotations

import pytest
from admin_support import admin_client
from flask import Flask
from flask.testing import FlaskClient

from idp.db import Database
from idp.models import Tenant


@pytest.fixture
def global_admin(app: Flask, database: Database, contoso: Tenant) -> FlaskClient:
    return admin_client(app, database, contoso, "grace", "Global Administrator")


@pytest.fixture
def user_admin(app: Flask, database: Database, contoso: Tenant) -> FlaskClient:
    return admin_client(app, database, contoso, "uma", "User Administrator")


@pytest.fixture
def guest_inviter(app: Flask, database: Database, contoso: Tenant) -> FlaskClient:
    return admin_client(app, database, contoso, "gina", "Guest Inviter")


@pytest.fixture
def security_admin(app: Flask, database: Database, contoso: Tenant) -> FlaskClient:
    return admin_client(app, database, contoso, "sam", "Security Administrator")
