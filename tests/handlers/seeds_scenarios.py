"""Data the scenario routes' sample events (events/*.json) need before they can succeed, keyed by file name."""

from __future__ import annotations

from collections.abc import Callable

from reco.scenarios.service import put_scenario, set_default
from reco.schemas.scenarios import Scenario
from reco.stores.catalog import catalog_store
from reco.stores.scenarios import scenario_store
from tests.shop import load_shop

TENANT = "demo"  # the tenant claim of every sample event


def seed_scenario() -> None:
    scenario = Scenario.model_validate({"scenario_type": "case", "case": {"amt": 10}})
    put_scenario(TENANT, "profile_to_items", "home_page", scenario, scenario_store(), catalog_store())


def seed_default() -> None:
    seed_scenario()
    set_default(TENANT, "profile_to_items", "home_page", scenario_store())


def seed_shop() -> None:
    load_shop(TENANT)


def seed_generic() -> None:
    seed_shop()
    seed_scenario()
    generic = Scenario.model_validate(
        {"scenario_type": "case", "case": {"reco_type": "profile_to_items", "scenario": "home_page"}}
    )
    put_scenario(TENANT, "generic_input_to_items", "generic_home_page", generic, scenario_store(), catalog_store())


SCENARIOS_SEEDS: dict[str, Callable[[], None]] = {
    "scenarios-get-scenario.json": seed_scenario,
    "scenarios-delete-scenario.json": seed_scenario,
    "scenarios-set-default.json": seed_scenario,
    "scenarios-get-default.json": seed_default,
    "scenarios-unset-default.json": seed_default,
    "recommendation-item-to-items.json": seed_shop,
    "recommendation-profile-to-items.json": seed_shop,
    "recommendation-session-to-items.json": seed_shop,
    "recommendation-generic-to-items.json": seed_generic,
    "scenarios-preview.json": seed_shop,
}
