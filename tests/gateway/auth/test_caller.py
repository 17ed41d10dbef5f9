"""Who a request is, when the auth middleware said nothing: nobody, allowed nothing."""

from __future__ import annotations

from gateway.auth.caller import ANONYMOUS, CALLER_KEY, NOBODY, Caller, caller_of


def test_a_request_without_a_recorded_caller_is_allowed_nothing() -> None:
    caller = caller_of({})
    assert caller is NOBODY
    assert not caller.is_admin
    assert not caller.may_see("team-a")
    assert not caller.may_see(None)
    assert caller.owner_filter == ""  # lists filtered to an owner no object has


def test_the_recorded_caller_is_returned() -> None:
    alice = Caller(key_id="key_1", owner="alice", role="user")
    assert caller_of({CALLER_KEY: alice}) is alice
    assert caller_of({CALLER_KEY: ANONYMOUS}).may_see("anyone")
    assert alice.may_see("alice")
    assert not alice.may_see("bob")
