from decimal import Decimal

from ledger import accounts, posting


async def test_transfer_moves_points_and_keeps_trial_balance() -> None:
    await accounts.open_account("org:1:issuance", account_type="equity", allow_negative=True)
    await accounts.open_account("volunteer:1:wallet", account_type="liability")
    entry = await posting.transfer(
        debit_code="org:1:issuance",
        credit_code="volunteer:1:wallet",
        amount=Decimal("12.50"),
        kind="award",
        reason_zh="巡逻奖励",
    )
    assert [p.amount for p in entry.postings] == [Decimal("-12.50"), Decimal("12.50")]
    assert (await accounts.get_balance("volunteer:1:wallet")).balance == Decimal("12.50")
