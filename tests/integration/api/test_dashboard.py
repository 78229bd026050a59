"""The dashboard over HTTP: the demo organiser reads their community's
figures as JSON (amounts as strings), exports them as CSV (BOM, Chinese
headers) and XLSX (openpyxl opens it, the same numbers on a sheet per
figure); a bad period is a 422 naming the field; another community's node
is refused (the authorisation matrix covers every role)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from community.tables import Organisation
from core.database import pooled_connections
from reporting.rollups import catch_up
from tests.integration.api.conftest import login_headers


async def _community_id() -> int:
    rows = await Organisation.select(Organisation.id).where(Organisation.name_zh == "平安社区").run()
    return int(rows[0]["id"])


async def _ready() -> int:
    async with pooled_connections(max_size=4):
        await catch_up()
        return await _community_id()


async def test_the_organiser_reads_figures_with_amounts_as_strings(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    community = await _ready()
    headers = await login_headers(client, "organizer")
    response = await client.get(f"/api/v1/dashboard/{community}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Asia/Shanghai"
    assert body["from_day"] <= body["to_day"] and body["organisation_id"] == community
    figures = {f["key"]: f for f in body["figures"]}
    assert set(figures) >= {"points", "liability", "budgets", "activities", "active_volunteers", "on_time"}
    awarded = dict(figures["points"]["rows"])["奖励 awarded"]
    assert isinstance(awarded, str) and Decimal(awarded) > 0
    liability = figures["liability"]["rows"][0][1]
    assert isinstance(liability, str) and Decimal(liability) > 0
    assert figures["active_volunteers"]["rows"][0][1] >= 1


async def test_a_period_ending_before_it_starts_is_a_422_naming_from(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    community = await _ready()
    headers = await login_headers(client, "organizer")
    response = await client.get(
        f"/api/v1/dashboard/{community}", params={"from": "2026-11-30", "to": "2026-11-01"}, headers=headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "from"


async def test_the_csv_has_a_bom_and_chinese_headers(client: AsyncTestClient[Litestar], demo: None) -> None:
    community = await _ready()
    headers = await login_headers(client, "organizer")
    response = await client.get(
        f"/api/v1/dashboard/{community}/export.csv", params={"figure": "points"}, headers=headers
    )
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())
    text = response.content.decode("utf-8-sig")
    assert "积分流量" in text and "项目 Flow" in text and "活动记录（按类型与状态）" not in text


def _sheet_rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(min_row=5, values_only=True)]


async def test_the_xlsx_opens_with_the_same_numbers_as_the_json(client: AsyncTestClient[Litestar], demo: None) -> None:
    community = await _ready()
    headers = await login_headers(client, "organizer")
    figures = (await client.get(f"/api/v1/dashboard/{community}", headers=headers)).json()["figures"]
    response = await client.get(f"/api/v1/dashboard/{community}/export.xlsx", headers=headers)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == len(figures)
    for figure, name in zip(figures, book.sheetnames, strict=True):
        sheet = book[name]
        assert name == figure["title_zh"][:31]
        assert [cell.value for cell in sheet[3]] == [c["zh"] for c in figure["columns"]]
        sheet_rows = _sheet_rows(sheet)
        assert len(sheet_rows) == len(figure["rows"]), figure["key"]
        for read, sent in zip(sheet_rows, figure["rows"], strict=True):
            for value, wire, column in zip(read, sent, figure["columns"], strict=True):
                if column["numeric"]:
                    assert isinstance(value, int | float) and Decimal(str(value)) == Decimal(str(wire)), figure["key"]
                else:
                    assert value == wire, figure["key"]


async def test_a_volunteer_is_refused_and_an_unknown_node_is_hidden(
    client: AsyncTestClient[Litestar], demo: None
) -> None:
    community = await _ready()
    volunteer = await login_headers(client, "volunteer")
    assert (await client.get(f"/api/v1/dashboard/{community}/export.xlsx", headers=volunteer)).status_code == 403
    organiser = await login_headers(client, "organizer")
    assert (await client.get("/api/v1/dashboard/2147483646", headers=organiser)).status_code == 404
