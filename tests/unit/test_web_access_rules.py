"""Pure rules of the web layer: roles and clearance, account value checks, HTTP Range parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hujjat.domain.accounts import (
    SENSITIVITIES,
    AccountError,
    Forbidden,
    Right,
    Role,
    User,
    check_name,
    check_password,
    parse_role,
    require,
)
from hujjat.entrypoints.web.media import _range


def _user(role: str, restricted: bool = False, active: bool = True) -> User:
    return User("id", "u", Role(role), "hash", restricted_access=restricted, active=active)


def test_rights_per_role() -> None:
    table = {r.value: {x.value for x in Right if _user(r.value).can(x)} for r in Role}
    assert table == {
        "admin": {"read", "add_evidence", "edit_incidents", "review", "export", "admin"},
        "editor": {"read", "add_evidence", "edit_incidents", "export"},
        "reviewer": {"read", "review", "export"},
        "viewer": {"read"},
    }
    with pytest.raises(Forbidden):
        require(_user("viewer"), Right.REVIEW)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_clearance_is_independent_of_role(role: str) -> None:
    assert [_user(role).can_view(s) for s in SENSITIVITIES] == [True, True, False]
    assert [_user(role, restricted=True).can_view(s) for s in SENSITIVITIES] == [True, True, True]
    assert not _user(role).can_view("secret")  # unknown levels count as restricted
    assert not _user(role, active=False).can_view("public") and not _user(role, active=False).can(Right.READ)


def test_account_values() -> None:
    assert check_name("maria.k-2") == "maria.k-2"
    for bad in ("", "../etc", "a b", "<script>", "x" * 65, ".hidden"):
        with pytest.raises(AccountError):
            check_name(bad)
    with pytest.raises(AccountError, match="too short"):
        check_password("short")
    with pytest.raises(AccountError, match="invalid role"):
        parse_role("root")
    assert parse_role(" Editor ") is Role.EDITOR


@given(st.text(max_size=40), st.integers(min_value=0, max_value=10**9))
def test_range_header_never_crashes_and_stays_in_bounds(header: str, size: int) -> None:
    span = _range(header, size)
    if isinstance(span, tuple):
        start, end = span
        assert 0 <= start <= end < size


def test_range_forms() -> None:
    assert _range(None, 100) is None
    assert _range("bytes=0-9", 100) == (0, 9)
    assert _range("bytes=90-", 100) == (90, 99)
    assert _range("bytes=-10", 100) == (90, 99)
    assert _range("bytes=50-500", 100) == (50, 99)
    assert _range("bytes=100-", 100) is False
    assert _range("bytes=0-1,5-6", 100) is None  # multi-range: the whole body
    assert _range("items=0-1", 100) is None
