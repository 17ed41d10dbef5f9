"""The public status: can the service answer, and what should a front end show?

- ``maintenance`` mode: status ``maintenance``, assistant ``hide``.
- nothing can serve (no engine whose breaker lets requests through, no fallback; in
  ``fallback`` mode: no fallback): ``unavailable``, ``pause``.
- ``normal`` mode with every engine up: ``ok``, ``show``.
- otherwise (a degraded mode, or some engines down but something serving): ``degraded``,
  ``show``.
"""

from __future__ import annotations

from gateway.fleet.breaker import BreakerState
from gateway.fleet.fallbacks import Fallback
from gateway.fleet.upstream import Upstream
from gateway.protection.modes import Mode, SwitchSetting
from gateway.protection.protocol import Assistant, PublicStatus, Status, UpstreamStatus

DEFAULT_MESSAGES: dict[Status, str] = {
    "ok": "",
    "degraded": "The assistant is running in a reduced mode; answers may differ.",
    "maintenance": "The assistant is down for maintenance.",
    "unavailable": "The assistant is unavailable right now; it should be back shortly.",
}


def public_status(
    setting: SwitchSetting, engines: list[Upstream], fallbacks: list[Fallback]
) -> PublicStatus:
    engines_up = [e for e in engines if e.healthy and e.breaker.state is not BreakerState.OPEN]
    fallbacks_up = [f for f in fallbacks if f.healthy]
    mode = setting.mode
    status: Status
    assistant: Assistant
    if mode is Mode.MAINTENANCE:
        status, assistant = "maintenance", "hide"
    elif not (fallbacks_up if mode is Mode.FALLBACK else engines_up or fallbacks_up):
        status, assistant = "unavailable", "pause"
    elif mode is Mode.NORMAL and len(engines_up) == len(engines):
        status, assistant = "ok", "show"
    else:
        status, assistant = "degraded", "show"
    operator_says = setting.reason if mode is not Mode.NORMAL else ""
    return PublicStatus(
        status=status,
        assistant=assistant,
        mode=mode,
        message=operator_says or DEFAULT_MESSAGES[status],
        since=setting.since,
        upstreams=[_upstream(e.name, e.healthy, e.breaker.state) for e in engines]
        + [_upstream(f.name, f.healthy, f.breaker.state) for f in fallbacks],
    )


def _upstream(name: str, healthy: bool, state: BreakerState) -> UpstreamStatus:
    return UpstreamStatus(name=name, healthy=healthy, breaker=state)
