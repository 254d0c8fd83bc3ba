from __future__ import annotations

import re

from reco.ids import ksuid, new_rec_id
from reco.settings import MIB, Settings


def test_rec_ids_are_prefixed_ksuids_and_unique() -> None:
    ids = {new_rec_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(re.fullmatch(r"rec_[0-9A-Za-z]{27}", i) for i in ids)


def test_ksuids_sort_by_creation_time() -> None:
    earlier, later = ksuid(now=1_700_000_000), ksuid(now=1_700_000_001)
    assert earlier < later
    assert len(earlier) == len(later) == 27


def test_settings_read_the_environment_once_into_types() -> None:
    settings = Settings.from_env({"CONFIG_TABLE": "cfg", "DECISION_LOG_TTL_DAYS": "7", "TENANT_CLAIM": "org"})
    assert settings.config_table == "cfg"
    assert settings.decision_log_ttl_days == 7
    assert settings.tenant_claim == "org"
    assert settings.max_body_bytes == MIB
    assert Settings.from_env({}) == Settings()
