"""Device tokens (``api.community.known_devices``): a token opens its own
lockout counter only for the number it was made for, cannot be forged, and
a shared phone remembers a few numbers, newest first."""

from __future__ import annotations

from api.community.known_devices import MAX_REMEMBERED, device_of, remember

SECRET = "a-deployment-secret-of-enough-length-0123456789"
PHONE = "13800000001"
OTHER = "13800000005"


def test_a_remembered_number_is_known_on_this_device_and_keeps_its_token() -> None:
    cookie = remember(SECRET, PHONE, None)
    device = device_of(SECRET, PHONE, cookie)
    assert device is not None
    assert remember(SECRET, PHONE, cookie) == cookie  # logging in again changes nothing
    assert device_of(SECRET, PHONE, remember(SECRET, OTHER, cookie)) == device


def test_a_token_is_for_its_number_and_its_deployment_only() -> None:
    cookie = remember(SECRET, PHONE, None)
    assert device_of(SECRET, OTHER, cookie) is None
    assert device_of("another-deployment-secret-0123456789abcdef", PHONE, cookie) is None


def test_a_forged_or_damaged_cookie_is_no_token() -> None:
    nonce = remember(SECRET, PHONE, None).partition(".")[0]
    for forged in (f"{nonce}.{'0' * 32}", nonce, ".", "", "~~~", f"{nonce}." + "a" * 500, "x" * 5000):
        assert device_of(SECRET, PHONE, forged) is None


def test_a_shared_phone_remembers_the_latest_numbers_newest_first() -> None:
    cookie = None
    phones = [f"1380000{n:04d}" for n in range(MAX_REMEMBERED + 2)]
    for phone in phones:
        cookie = remember(SECRET, phone, cookie)
    assert [device_of(SECRET, phone, cookie) is not None for phone in phones] == [False, False] + [
        True
    ] * MAX_REMEMBERED
    assert cookie is not None and device_of(SECRET, phones[-1], cookie.split("~")[0]) is not None
