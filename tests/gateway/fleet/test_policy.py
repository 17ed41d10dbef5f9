"""The engine-choice policy on tables of engine states."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from dataclasses import replace

import pytest

from gateway.fleet.policy import (
    SPILL_SCAN,
    EngineView,
    RoutingPolicy,
    choose,
    load_of,
    rendezvous_score,
)
from gateway.settings import RoutingSettings, Settings

POLICY = RoutingPolicy(busy_load=4.0, slot_penalty=3.0, waiting_weight=1.0, kv_weight=2.0)
HOT = "ft:tiny:hot:job1"


def fleet(count: int, **fields: object) -> tuple[EngineView, ...]:
    fields = {"healthy": True, "max_loras": 4, **fields}
    return tuple(
        EngineView(name=f"engine-{i}", **fields)  # type: ignore[arg-type]
        for i in range(count)
    )


def with_(engines: tuple[EngineView, ...], index: int, **fields: object) -> tuple[EngineView, ...]:
    changed = list(engines)
    changed[index] = replace(engines[index], **fields)  # type: ignore[arg-type]
    return tuple(changed)


def owner(adapter: str, engines: tuple[EngineView, ...]) -> str:
    """Where a cold adapter goes: the name of the first engine of the decision."""
    return engines[choose(engines, adapter, POLICY).order[0]].name


ADAPTERS = [f"ft:loragate-tiny:a{i}:ftjob-{i:04d}" for i in range(1000)]


# --- load --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, 0.0),
        ({"running": 3}, 3.0),
        ({"running": 3, "waiting": 2}, 3 + 2 + 2),
        ({"running": 3, "in_flight": 5}, 5.0),  # this gateway's own count is fresher
        ({"running": 4, "capacity": 2.0}, 2.0),
        ({"running": 1, "kv_cache_usage": 0.5}, 1 + 2 * 0.5),
    ],
)
def test_load_counts_queue_waiting_and_kv_per_capacity(
    fields: dict[str, object], expected: float
) -> None:
    engine = replace(fleet(1)[0], **fields)  # type: ignore[arg-type]
    assert load_of(engine, POLICY) == pytest.approx(expected)


# --- cold placement: rendezvous hashing -----------------------------------------------------


def test_a_cold_adapter_goes_to_its_rendezvous_engine_whatever_the_load() -> None:
    idle = fleet(5)
    first = owner(HOT, idle)
    busy = tuple(replace(e, running=50, waiting=9, in_flight=7) for e in idle)
    busy = with_(busy, 0, running=0, waiting=0, in_flight=0)
    decision = choose(busy, HOT, POLICY)
    assert decision.kind == "cold"
    assert busy[decision.order[0]].name == first


def test_cold_placement_is_the_same_in_another_process() -> None:
    engines = fleet(7)
    here = {adapter: owner(adapter, engines) for adapter in ADAPTERS[:200]}
    code = (
        "import json, sys\n"
        "from gateway.fleet.policy import EngineView, RoutingPolicy, choose\n"
        "engines = tuple(EngineView(f'engine-{i}', True, in_flight=i) for i in range(7))\n"
        "names = json.load(sys.stdin)\n"
        "print(json.dumps({a: engines[choose(engines, a, RoutingPolicy()).order[0]].name"
        " for a in names}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(ADAPTERS[:200]),
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", **_pythonpath()},
    )
    there = json.loads(out.stdout)
    assert there == here
    assert len(set(here.values())) == 7  # and it does spread them


def test_cold_placement_does_not_depend_on_list_order() -> None:
    engines = fleet(6)
    shuffled = tuple(reversed(engines))
    for adapter in ADAPTERS[:100]:
        assert owner(adapter, engines) == owner(adapter, shuffled)


def test_an_engine_joining_takes_about_one_in_n_plus_one_and_only_moves_to_it() -> None:
    before = fleet(8)
    after = (*before, EngineView("engine-new", True, max_loras=4))
    moved: Counter[str] = Counter()
    for adapter in ADAPTERS:
        old, new = owner(adapter, before), owner(adapter, after)
        if old != new:
            moved[new] += 1
    assert set(moved) == {"engine-new"}
    share = moved["engine-new"] / len(ADAPTERS)
    assert 0.07 <= share <= 0.16, share  # 1/9 = 0.111


def test_an_engine_leaving_moves_only_its_own_adapters() -> None:
    before = fleet(8)
    after = with_(before, 3, healthy=False)
    gone = before[3].name
    moved = [a for a in ADAPTERS if owner(a, before) != owner(a, after)]
    assert moved
    assert all(owner(a, before) == gone for a in moved)
    assert len(moved) == sum(owner(a, before) == gone for a in ADAPTERS)
    assert all(owner(a, after) != gone for a in ADAPTERS)


def test_capacity_weights_the_share_of_cold_adapters() -> None:
    engines = with_(fleet(4), 0, capacity=2.0)
    shares = Counter(owner(a, engines) for a in ADAPTERS)
    assert 1.6 <= shares["engine-0"] / (sum(shares.values()) - shares["engine-0"]) * 3 <= 2.4


def test_rendezvous_score_is_stable_across_releases() -> None:
    # A changed hash would move every adapter of every fleet on upgrade.
    assert rendezvous_score("ft:a", "engine-0", 2.0) == pytest.approx(
        2 * rendezvous_score("ft:a", "engine-0", 1.0)
    )
    assert f"{rendezvous_score('ft:a', 'engine-0', 1.0):.6f}" == "1.305698"
    assert f"{rendezvous_score('ft:b', 'engine-1', 1.0):.6f}" == "2.890547"


# --- loaded adapters: affinity, hot spots, spill -----------------------------------------------


def test_a_loaded_adapter_stays_where_it_is_while_that_engine_is_not_busy() -> None:
    engines = fleet(4)
    home = 2
    engines = with_(engines, home, registered=frozenset({HOT}), running=3)
    decision = choose(engines, HOT, POLICY)
    assert (decision.kind, decision.order[0]) == ("affinity", home)


def test_the_least_loaded_engine_that_has_it_wins() -> None:
    engines = fleet(4, registered=frozenset({HOT}))
    for i, running in enumerate((3, 1, 2, 3)):
        engines = with_(engines, i, running=running)
    decision = choose(engines, HOT, POLICY)
    assert decision.kind == "affinity"
    assert decision.order[:3] == (1, 2, 0)


def test_a_hot_spot_spills_to_the_next_engine_in_rendezvous_order() -> None:
    engines = fleet(5)
    order = choose(engines, HOT, POLICY).order
    home, second, third = order[0], order[1], order[2]
    engines = with_(engines, home, registered=frozenset({HOT}), running=4)  # at busy_load
    decision = choose(engines, HOT, POLICY)
    assert (decision.kind, decision.order[:2]) == ("spill", (second, home))
    engines = with_(engines, second, running=9)  # the next one is busy too: one further
    assert choose(engines, HOT, POLICY).order[:2] == (third, home)


def test_after_a_spill_both_engines_serve_it_by_load() -> None:
    engines = fleet(5)
    order = choose(engines, HOT, POLICY).order
    both = frozenset({HOT})
    engines = with_(engines, order[0], registered=both, running=3)
    engines = with_(engines, order[1], registered=both, running=1)
    assert choose(engines, HOT, POLICY).order[:2] == (order[1], order[0])


def test_a_spill_looks_only_at_the_next_few_engines_of_the_order() -> None:
    policy = RoutingPolicy(busy_load=4.0, balance=0.0, kv_weight=0.0)
    engines = fleet(SPILL_SCAN + 3)
    order = choose(engines, HOT, policy).order
    engines = with_(engines, order[0], registered=frozenset({HOT}), running=30)
    for i in order[1 : SPILL_SCAN + 1]:
        engines = with_(engines, i, running=30)
    # Idle engines lie past the scanned part of the order: the adapter stays home.
    decision = choose(engines, HOT, policy)
    assert (decision.kind, decision.order[0]) == ("affinity", order[0])
    # The last scanned engine idle: it spills there.
    engines = with_(engines, order[SPILL_SCAN], running=0)
    decision = choose(engines, HOT, policy)
    assert (decision.kind, decision.order[0]) == ("spill", order[SPILL_SCAN])


def test_when_every_engine_is_busy_it_stays_on_its_least_loaded_holder() -> None:
    engines = fleet(3, running=10)
    engines = with_(engines, 1, registered=frozenset({HOT}), running=12)
    decision = choose(engines, HOT, POLICY)
    assert (decision.kind, decision.order[0]) == ("affinity", 1)


@pytest.mark.parametrize(
    ("holder_running", "others_running", "kind"),
    [
        (20, 10, "spill"),  # past busy_load and 1.5 x the mean (12.5)
        (15, 10, "affinity"),  # past busy_load but not far above the mean
        (20, 20, "affinity"),  # everyone equally loaded: a spill would gain nothing
    ],
)
def test_an_engine_is_busy_only_when_also_well_above_the_fleets_mean(
    holder_running: int, others_running: int, kind: str
) -> None:
    policy = RoutingPolicy(busy_load=12.0, balance=0.5, kv_weight=0.0)
    engines = fleet(4, running=others_running)
    engines = with_(engines, 0, registered=frozenset({HOT}), running=holder_running)
    assert choose(engines, HOT, policy).kind == kind


def test_a_lightly_loaded_fleet_does_not_spread_an_adapter() -> None:
    # Far above the mean (0.75) but under busy_load: the floor keeps it on one engine.
    engines = with_(fleet(4), 0, registered=frozenset({HOT}), running=3)
    assert choose(engines, HOT, POLICY).kind == "affinity"


def test_the_settings_defaults_are_the_policys() -> None:
    # The defaults the simulation chose live in both places; they must not drift apart.
    assert RoutingPolicy.from_settings(RoutingSettings()) == RoutingPolicy()


def test_the_busy_threshold_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORAGATE_ROUTING__BUSY_LOAD", "1")
    policy = RoutingPolicy.from_settings(Settings().routing)
    assert policy.busy_load == 1.0
    engines = with_(fleet(2), 0, registered=frozenset({HOT}), in_flight=1)
    assert choose(engines, HOT, POLICY).kind == "affinity"
    assert choose(engines, HOT, policy).kind == "spill"


# --- LoRA-slot pressure -------------------------------------------------------------------


def test_a_holder_whose_slots_are_full_of_others_is_scored_down() -> None:
    others = frozenset({"a", "b", "c", "d"})  # max_loras is 4
    engines = fleet(2, registered=frozenset({HOT}))
    engines = with_(engines, 0, active_adapters=others, running=1)
    engines = with_(engines, 1, running=2)
    assert choose(engines, HOT, POLICY).order[0] == 1
    # Its own adapter among the active ones: no penalty.
    engines = with_(engines, 0, active_adapters=frozenset({"a", "b", "c", HOT}))
    assert choose(engines, HOT, POLICY).order[0] == 0


def test_a_spill_skips_an_engine_whose_slots_are_full() -> None:
    engines = fleet(4)
    order = choose(engines, HOT, POLICY).order
    engines = with_(engines, order[0], registered=frozenset({HOT}), running=5)
    engines = with_(engines, order[1], active_adapters=frozenset({"a", "b", "c", "d"}), running=1)
    decision = choose(engines, HOT, POLICY)
    assert (decision.kind, decision.order[0]) == ("spill", order[2])


# --- base model -------------------------------------------------------------------------


def test_base_requests_go_to_the_least_loaded_engine() -> None:
    engines = fleet(4)
    for i, (running, waiting) in enumerate(((2, 0), (1, 1), (0, 0), (1, 0))):
        engines = with_(engines, i, running=running, waiting=waiting, registered=frozenset({HOT}))
    decision = choose(engines, None, POLICY)
    assert decision == type(decision)((2, 3, 0, 1), "base")


def test_base_requests_spread_as_this_gateways_in_flight_grows() -> None:
    engines = fleet(4)
    in_flight = [0, 0, 0, 0]
    for _ in range(40):
        in_flight[choose(engines, None, POLICY, in_flight).order[0]] += 1
    assert in_flight == [10, 10, 10, 10]


def test_the_base_choice_matches_a_plain_minimum_on_random_tables() -> None:
    rng = random.Random(7)
    for _ in range(300):
        engines = tuple(
            EngineView(
                f"e{i}",
                healthy=rng.random() > 0.2,
                capacity=rng.choice((1.0, 2.0)),
                running=rng.randint(0, 6),
                waiting=rng.randint(0, 2),
                kv_cache_usage=rng.random(),
            )
            for i in range(rng.randint(1, 12))
        )
        flights = [rng.randint(0, 9) for _ in engines]
        healthy = [i for i, e in enumerate(engines) if e.healthy]
        got = choose(engines, None, POLICY, flights)
        if not healthy:
            assert got.order == ()
            continue
        loads = {i: load_of(engines[i], POLICY, flights[i]) for i in healthy}
        assert loads[got.order[0]] == pytest.approx(min(loads.values()))
        assert sorted(got.order) == healthy


# --- the order: every healthy engine once, never a sick one ---------------------------


def test_the_order_lists_each_healthy_engine_once_and_no_other() -> None:
    rng = random.Random(3)
    for _ in range(300):
        engines = tuple(
            EngineView(
                f"e{i}",
                healthy=rng.random() > 0.3,
                running=rng.randint(0, 8),
                registered=frozenset(rng.sample(["x", "y", "z"], rng.randint(0, 2))),
                active_adapters=frozenset(rng.sample(["x", "p", "q", "r"], rng.randint(0, 3))),
                max_loras=2,
            )
            for i in range(rng.randint(0, 8))
        )
        adapter = rng.choice(["x", "y", None])
        order = choose(engines, adapter, POLICY).order
        assert sorted(order) == [i for i, e in enumerate(engines) if e.healthy]


def test_no_healthy_engine_gives_an_empty_order() -> None:
    engines = fleet(2, healthy=False)
    assert choose(engines, HOT, POLICY).order == ()
    assert choose(engines, None, POLICY).order == ()


def test_a_reused_tuple_still_reads_the_in_flight_counts_passed() -> None:
    engines = fleet(2, registered=frozenset({HOT}))
    assert choose(engines, HOT, POLICY, [3, 0]).order[0] == 1
    assert choose(engines, HOT, POLICY, [0, 3]).order[0] == 0
    assert choose(list(engines), HOT, POLICY, [3, 0]).order[0] == 1


def _pythonpath() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if key != "PYTHONHASHSEED"}


def test_base_requests_in_a_large_fleet_sample_a_few_engines_and_stay_balanced() -> None:
    engines = fleet(64)
    in_flight = [0] * 64
    for _ in range(64 * 8):
        decision = choose(engines, None, POLICY, in_flight)
        assert len(decision.order) == 8  # the first choice and seven to retry on
        assert len(set(decision.order)) == 8
        in_flight[decision.order[0]] += 1
    assert max(in_flight) - min(in_flight) <= 4  # power of d choices keeps them close
    busy = with_(fleet(64), 5, running=0)
    for i in range(64):
        if i != 5:
            busy = with_(busy, i, running=10)
    assert choose(busy, None, POLICY, [0] * 64).order[0] == 5  # the lowest queue is always seen
