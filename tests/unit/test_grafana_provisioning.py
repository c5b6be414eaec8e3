"""compose/grafana and compose/prometheus: valid files whose queries name series that exist.

No Grafana image can be pulled here, so instead of starting it this checks
what it would load: the provisioning YAML, the dashboard JSON, that every
panel and annotation uses the provisioned datasource, and that every metric
a query names is exported by the reference backend or by the harness.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "compose" / "grafana"
METRIC = re.compile(r"\b(flowforge_[a-z_]+)")
# What the backend's registry and the harness's exporter expose (histograms add _bucket/_sum/_count).
BACKEND = {"flowforge_datastore_seconds", "flowforge_datastore_errors_total", "flowforge_ws_messages_sent_total",
           "flowforge_ws_connections", "flowforge_http_request_seconds"}
HARNESS = {"flowforge_tier_latency_seconds", "flowforge_tier_errors_total", "flowforge_slo_ok",
           "flowforge_slo_bound_seconds", "flowforge_step", "flowforge_users", "flowforge_users_running",
           "flowforge_toxic_active", "flowforge_run_info"}


def _base(name: str) -> str:
    return re.sub(r"_(bucket|sum|count)$", "", name)


def test_provisioning_files_are_valid_and_agree() -> None:
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "provider.yaml").read_text())
    assert datasources["apiVersion"] == 1 and providers["apiVersion"] == 1
    [source] = datasources["datasources"]
    assert source["type"] == "prometheus" and source["uid"] == "flowforge-prometheus"
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads((GRAFANA / "dashboards" / "flowforge.json").read_text())
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    queries = []
    for panel in panels:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        queries += [target["expr"] for target in panel["targets"]]
    annotations = [a for a in dashboard["annotations"]["list"] if a.get("expr")]
    assert any("flowforge_toxic_active" in a["expr"] for a in annotations), "active toxics as annotations"
    queries += [a["expr"] for a in annotations]
    named = {_base(name) for query in queries for name in METRIC.findall(query)}
    assert named <= BACKEND | HARNESS, named - (BACKEND | HARNESS)
    # Latency per tier with the SLO as a line, users, errors: what the issue asks the dashboard to show.
    assert {"flowforge_tier_latency_seconds", "flowforge_slo_bound_seconds", "flowforge_users",
            "flowforge_tier_errors_total"} <= named


def test_prometheus_config_is_valid_yaml_scraping_the_backend() -> None:
    config = yaml.safe_load((ROOT / "compose" / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["flowforge-backend"]["static_configs"][0]["targets"] == ["backend:8000"]


def test_the_harness_exports_every_series_the_dashboard_names() -> None:
    import httpx

    from harness.contract import StepLine
    from harness.events import LiveWindow, RunStarted, ToxicsApplied
    from harness.metrics.exporter import MetricsExporter
    from harness.plan import build_plan
    from harness.spec import Experiment, TierSlo

    plan = build_plan(Experiment.model_validate({"name": "g", "ramp": {"users": [5], "step_s": 4, "settle_s": 1}}))
    with MetricsExporter({"redis": TierSlo(p99_ms=1)}, 0) as exporter:
        exporter(RunStarted(experiment="g", run_id="r", backend="local", planned_steps=1, slos={}, plan=plan,
                            probes={}, folder=Path("/tmp/g")))
        exporter(ToxicsApplied(step=1, total_steps=1, users=5, toxics=[], changes=[], active=[]))
        exporter(LiveWindow(results={}, measured=StepLine(index=0, users=5)))
        text = httpx.get(exporter.url, timeout=5).text
    declared = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
    dashboard = json.loads((GRAFANA / "dashboards" / "flowforge.json").read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    queries += [a["expr"] for a in dashboard["annotations"]["list"] if a.get("expr")]
    wanted = {_base(name) for query in queries for name in METRIC.findall(query)} & HARNESS
    assert wanted <= {_base(name) for name in declared}, wanted - declared
