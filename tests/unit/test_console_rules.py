"""The operator console's pure rules: who may open it, that every table it
shows refuses writes and serves no secret, and how a refusal reads."""

from __future__ import annotations

from decimal import Decimal

import pytest
from piccolo_api.crud.validators import Validators
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin.console_forms import refusal_text
from admin.console_tables import READING_METHODS, console_tables, refuse_writes
from community.access import Principal
from community.errors import AccessRefused
from community.policy import is_root_admin
from community.roles import Role
from ledger.errors import InsufficientFunds

SECRET_COLUMNS = {"password_hash", "code_sha256", "sealed_private_key", "password"}


def someone(*grants: tuple[int, Role]) -> Principal:
    return Principal(member_id=7, name="某人", home_organisation_id=1, grants=grants)


def test_only_an_admin_grant_at_a_root_opens_the_console() -> None:
    roots = {1}
    assert is_root_admin(someone((1, Role.ADMIN)), roots)
    assert is_root_admin(someone((5, Role.ORGANIZER), (1, Role.ADMIN)), roots)
    assert not is_root_admin(someone((2, Role.ADMIN)), roots)  # a district admin
    assert not is_root_admin(someone((1, Role.ORGANIZER)), roots)  # an organiser at the root
    assert not is_root_admin(someone(), roots)


def request(method: str) -> Request:
    return Request({"type": "http", "method": method, "path": "/", "headers": [], "query_string": b""})


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_the_table_validator_refuses_every_write(method: str) -> None:
    with pytest.raises(HTTPException) as refused:
        refuse_writes(None, request(method))  # type: ignore[arg-type]
    assert refused.value.status_code == 405


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_the_table_validator_lets_reads_through(method: str) -> None:
    assert method in READING_METHODS
    refuse_writes(None, request(method))  # type: ignore[arg-type]  # raises HTTPException if it refused


def test_every_console_table_refuses_writes_and_serves_no_secret() -> None:
    configs = console_tables()
    assert len({config.table_class._meta.tablename for config in configs}) == len(configs)
    for config in configs:
        validators = config.validators
        assert isinstance(validators, Validators)
        assert refuse_writes in validators.every, config.table_class
        columns = {column._meta.name for column in config.table_class._meta.columns}
        assert not columns & SECRET_COLUMNS, config.table_class
    shown = {config.table_class._meta.tablename for config in configs}
    assert {"community_invitation", "marketplace_signing_key", "piccolo_user"}.isdisjoint(shown)


def test_a_refusal_reads_chinese_first_with_the_services_detail() -> None:
    assert refusal_text(AccessRefused("ask a colleague")) == "无权访问 · Not allowed: ask a colleague"
    short = refusal_text(InsufficientFunds("org:1:issuance", Decimal("1.00"), Decimal("5.00")))
    assert short.startswith("可用积分不足 · Not enough points available: ")
