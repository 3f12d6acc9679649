"""The registry file: one format (a JSON Schema), checked whole before anything is saved, with
errors that name the path in the file and the fix."""

from __future__ import annotations

import json

from prognos.config import Settings
from prognos.domain.registry_file import registry_schema
from prognos.service.platform import open_platform

GOOD = {
    "customers": [{"id": "acme", "name": "ACME"}],
    "sites": [
        {"id": "acme-1", "customer_id": "acme", "name": "Plant 1", "timezone": "Europe/Berlin"}
    ],
    "asset_types": [
        {"id": "pump", "time_unit": "hours", "channels": [{"name": "temp", "unit": "degC"}]}
    ],
    "assets": [
        {
            "id": f"p{i}",
            "customer_id": "acme",
            "site_id": "acme-1",
            "type_id": "pump",
            "installed_at": "2024-01-01T00:00:00Z",
        }
        for i in range(4)
    ],  # fmt: skip
    "crews": [{"id": "crew-1", "skills": ["pump"], "home_region": "default"}],
    "cost_models": [
        {
            "asset_type": "pump",
            "part": "seal",
            "unplanned_stoppage_cost_per_hour": 500,
            "unplanned_repair_hours": 8,
            "planned_job_hours": 2,
            "part_cost": 300,
            "labour_cost_per_hour": 90,
        }
    ],  # fmt: skip
}


def write(tmp_path, doc, name="registry.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=2))
    return path


def stored_assets(tmp_path) -> int:
    p = open_platform(Settings(db=str(tmp_path / "own.duckdb")))
    try:
        return len(p.store.list_assets()) + len(p.store.list_customers())
    finally:
        p.close()


def test_a_whole_file_loads_with_its_service_resources(cli, tmp_path):
    code, out, _ = cli("registry", "load", write(tmp_path, GOOD))
    assert code == 0
    assert "1 customers, 1 sites, 1 asset types, 4 assets, 1 crews, 1 cost models" in out
    assert stored_assets(tmp_path) == 5


def test_a_wrong_key_names_its_path_and_the_fix_and_nothing_is_saved(cli, tmp_path):
    doc = json.loads(json.dumps(GOOD))
    doc["assets"][3]["type"] = doc["assets"][3].pop("type_id")
    code, _, err = cli("registry", "load", write(tmp_path, doc))
    assert code == 2
    assert "assets[3].type: unknown key 'type' (did you mean type_id?)" in err
    assert "nothing was saved" in err
    assert "prognos registry schema" in err  # the next step
    assert stored_assets(tmp_path) == 0  # not even the customers before the bad asset


def test_every_problem_is_listed_at_once_with_suggestions(cli, tmp_path):
    doc = json.loads(json.dumps(GOOD))
    doc["assets"][0]["site_id"] = "acme-one"
    doc["assets"][1]["type_id"] = "pumps"
    doc["sites"][0]["timezone"] = "Berlin"
    code, _, err = cli("registry", "load", write(tmp_path, doc))
    assert code == 2
    assert "sites[0].timezone: unknown time zone 'Berlin'" in err
    doc["sites"][0]["timezone"] = "Europe/Berlin"
    code, _, err = cli("registry", "load", write(tmp_path, doc))
    assert "assets[0].site_id: no site 'acme-one' (did you mean 'acme-1'?)" in err
    assert "assets[1].type_id: no asset type 'pumps' (did you mean 'pump'?)" in err
    assert "2 problems" in err and stored_assets(tmp_path) == 0


def test_a_channel_name_with_blanks_gets_a_name_that_works(cli, tmp_path):
    doc = json.loads(json.dumps(GOOD))
    doc["asset_types"][0]["channels"].append({"name": "Bearing 1"})
    _, _, err = cli("registry", "load", write(tmp_path, doc))
    assert "asset_types[0].channels[1].name: 'Bearing 1' is not a channel name" in err
    assert "try 'Bearing_1'" in err


def test_a_missing_file_is_a_sentence_not_a_traceback(cli, tmp_path):
    code, _, err = cli("registry", "load", tmp_path / "nope.json")
    assert code == 2
    assert "nope.json: no such file" in err and "prognos registry schema" in err


def test_broken_json_names_line_and_column(cli, tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"customers": [\n  {"id": "a" "name": "A"}\n]}')
    code, _, err = cli("registry", "load", path)
    assert code == 2 and "r.json line 2, column 14: not valid JSON" in err


def test_yaml_files_load_too_and_check_saves_nothing(cli, tmp_path):
    import yaml

    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(GOOD))
    code, out, _ = cli("registry", "load", path, "--check")
    assert code == 0 and "valid" in out and stored_assets(tmp_path) == 0
    assert cli("registry", "load", path)[0] == 0 and stored_assets(tmp_path) == 5


def test_the_schema_is_the_format_load_reads(cli):
    code, out, _ = cli("registry", "schema")
    schema = json.loads(out)
    assert code == 0 and schema == registry_schema()
    asset = schema["$defs"]["AssetEntry"]
    assert asset["additionalProperties"] is False
    assert {"id", "customer_id", "site_id", "type_id", "installed_at"} <= set(asset["required"])
    assert set(schema["properties"]) >= {"customers", "sites", "asset_types", "assets"}
