"""The console's sign-in rules: password hashes, session expiry, CSRF and cookies, and who
may see and do what (roles, teams, leavers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.web.console.access import (
    LEADS,
    Refused,
    Viewer,
    access,
    sign_in_blocked,
)
from dispatch.web.console.accounts import AccountRefused, new_account
from dispatch.web.console.passwords import (
    PasswordRefused,
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from dispatch.web.console.sessions import (
    cookie_rules,
    csrf_matches,
    digest,
    expires_at,
    is_expired,
    new_token,
    safe_next,
)
from projections.console_accounts import Account, Failures
from projections.models import StaffMember

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NURSE = StaffMember("s-nurse", "act-north", "Community nurse", "nurse", "female",
                    "+15550100001", ("en",))  # fmt: skip


def _account(**changes: object) -> Account:
    values: dict[str, object] = {
        "account_id": "s-nurse",
        "staff_id": "s-nurse",
        "team_id": None,
        "role": "staff",
        "password_hash": None,
    }
    return Account(**{**values, **changes})  # type: ignore[arg-type]


def _viewer(role: str, staff_id: str | None = "s-nurse") -> Viewer:
    return Viewer("s-nurse", staff_id, "act-north", role, "Community nurse", "tok", "dig")


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_only_itself() -> None:
    """The stored hash is argon2id, salted (two hashes differ) and accepts only the password."""
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert "correct horse" not in first
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse battery!")
    assert not needs_rehash(first)


def test_no_password_or_a_broken_hash_never_signs_in() -> None:
    """An account awaiting setup (no hash) or with an unreadable hash matches nothing."""
    assert not verify_password(None, "no account has this password")
    assert not verify_password("not-a-hash", "anything at all")
    assert not verify_password(hash_password("long enough pw"), "x" * 10_000)


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short", "at least 12"),
        ("x" * 257, "at most 256"),
        (" padded password ", "spaces"),
        ("my s-nurse password", "sign-in name"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason(password: str, why: str) -> None:
    """Too short, too long, padded, or containing the sign-in name: refused, saying why."""
    with pytest.raises(PasswordRefused, match=why):
        check_new_password(password, account_id="s-nurse")


def test_sessions_are_random_stored_by_digest_and_expire() -> None:
    """Each token is new and long; only its SHA-256 is stored; a session ends at expiry."""
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(len(t) >= 43 for t in tokens)
    token = tokens.pop()
    assert digest(token) != token and len(digest(token)) == 64
    end = expires_at(NOW, timedelta(hours=12))
    assert not is_expired(end, NOW + timedelta(hours=11, minutes=59))
    assert is_expired(end, NOW + timedelta(hours=12))


def test_a_form_without_the_sessions_csrf_token_is_refused() -> None:
    """Only the exact token of the session passes; missing or another one does not."""
    assert csrf_matches("abc123", "abc123")
    assert not csrf_matches("abc123", "abc124")
    assert not csrf_matches("abc123", None)
    assert not csrf_matches("abc123", "")
    assert not csrf_matches(None, "abc123")


def test_cookies_are_httponly_lax_and_secure_over_https() -> None:
    """HttpOnly, SameSite=Lax, an expiry; Secure whenever the console is served over https."""
    attrs = cookie_rules("https://dispatch.example.org").attributes(timedelta(hours=12))
    assert attrs == {"httponly": True, "samesite": "Lax", "secure": True, "path": "/",
                     "max_age": 43200}  # fmt: skip
    assert cookie_rules("http://127.0.0.1:8080").attributes(timedelta(0))["secure"] is False


@pytest.mark.parametrize(
    ("asked", "went"),
    [("/d/K7M2Q", "/d/K7M2Q"), ("/console/board", "/console/board"),
     ("https://evil.example/", "/console/"), ("//evil.example/console", "/console/"),
     ("/console/..//evil", "/console/"), (None, "/console/"), ("/api/dispatches", "/console/")],
)  # fmt: skip
def test_after_sign_in_only_a_console_path_is_followed(asked: str | None, went: str) -> None:
    """The `next` of the sign-in form never leads to another site or outside the console."""
    assert safe_next(asked) == went


def test_a_leaver_is_refused_from_the_instant_they_leave() -> None:
    """The staff read model's left_at decides: before it the team, from it refused."""
    leaving = StaffMember(**{**NURSE.__dict__, "left_at": NOW + timedelta(minutes=1)})
    assert access(_account(), leaving, NOW) == ("act-north", "Community nurse")
    assert access(_account(), leaving, NOW + timedelta(minutes=1)) == Refused("left")


def test_an_account_follows_its_staff_members_team_and_can_be_disabled() -> None:
    """A staff member who moved team sees the new team; a disabled account is refused."""
    moved = StaffMember(**{**NURSE.__dict__, "team_id": "act-south"})
    assert access(_account(), moved, NOW) == ("act-south", "Community nurse")
    assert access(_account(disabled_at=NOW), NURSE, NOW) == Refused("disabled")
    assert access(_account(), None, NOW) == Refused("not_on_staff")
    admin = _account(account_id="it-admin", staff_id=None, team_id=None, role="admin")
    assert access(admin, None, NOW) == (None, "it-admin")


def test_roles_are_the_apis_team_leads_and_managers_and_only_staff_act() -> None:
    """Leads' pages take team_lead, manager (and admin, as a manager); acting needs staff."""
    assert [_viewer(r).may(LEADS) for r in ("staff", "team_lead", "manager", "admin")] == [
        False, True, True, True,
    ]  # fmt: skip
    assert _viewer("staff").may_act
    assert not _viewer("admin", staff_id=None).may_act
    assert _viewer("manager").audit_name == "console:manager:s-nurse"


def test_sign_in_is_blocked_after_too_many_failures_per_name_or_address() -> None:
    """Five failures for one name, or twenty from one address, block further tries."""
    assert not sign_in_blocked(Failures(by_account=4, by_ip=19))
    assert sign_in_blocked(Failures(by_account=5, by_ip=0))
    assert sign_in_blocked(Failures(by_account=0, by_ip=20))


def test_an_account_is_for_a_current_staff_member_of_their_own_team() -> None:
    """The team is the staff record's; another --team, a leaver or a stranger is refused."""
    made = new_account("s-nurse", role="staff", team_id=None, staff=NURSE, now=NOW,
                       created_by="cli:s-lead")  # fmt: skip
    assert (made.staff_id, made.team_id, made.role) == ("s-nurse", None, "staff")
    with pytest.raises(AccountRefused) as wrong_team:
        new_account("s-nurse", role="staff", team_id="act-south", staff=NURSE, now=NOW,
                    created_by="cli:x")  # fmt: skip
    assert wrong_team.value.option == "--team"
    gone = StaffMember(**{**NURSE.__dict__, "left_at": NOW})
    with pytest.raises(AccountRefused, match="has left"):
        new_account("s-nurse", role="staff", team_id=None, staff=gone, now=NOW, created_by="x")
    with pytest.raises(AccountRefused, match="only an admin") as stranger:
        new_account("someone", role="manager", team_id=None, staff=None, now=NOW, created_by="x")
    assert stranger.value.option == "--staff"
    admin = new_account("it-admin", role="admin", team_id=None, staff=None, now=NOW, created_by="x")
    assert (admin.staff_id, admin.team_id) == (None, None)
