"""The deployment files are valid for their tools and say what the cluster needs: docker-compose.yml against
the Compose Specification's schema (vendored in tests/scale/schemas, validated with jsonschema), the
Kubernetes manifests against Kubernetes 1.28's schemas (kubernetes-validate, strict: unknown fields fail),
and deploy/endpoints.yml loads the stores a cluster needs. Nothing is fetched.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.28.0"
COMPOSE_SCHEMA = json.loads((Path(__file__).parent / "schemas" / "compose-spec.json").read_text())


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def manifests() -> list[tuple[str, dict]]:
    return [(f.name, doc) for f in sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
            for doc in yaml.safe_load_all(f.read_text()) if doc]


def compose_errors(doc: dict) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in jsonschema.Draft201909Validator(COMPOSE_SCHEMA).iter_errors(doc)]


# --------------------------------------------------------------------------- docker-compose.yml

def test_the_compose_file_matches_the_compose_specification():
    assert compose_errors(compose()) == []


def test_the_compose_schema_check_catches_a_bad_file():
    doc = compose()
    doc["services"]["rasa"]["deploy"] = {"replicas": "two"}
    doc["services"]["nginx"]["ports"] = {"80": 80}
    assert len(compose_errors(doc)) >= 2


def test_compose_runs_two_replicas_of_each_server_behind_nginx_with_the_shared_stores():
    services = compose()["services"]
    assert {"rasa", "actions", "postgres", "redis", "nginx"} <= set(services)
    assert services["rasa"]["deploy"]["replicas"] >= 2
    assert services["actions"]["deploy"]["replicas"] >= 2
    assert "ports" not in services["rasa"] and "ports" not in services["actions"]  # only through nginx
    env = services["rasa"]["environment"]
    assert env["ORDERDESK_ACTIONS_URL"].startswith("http://nginx:")
    assert "deploy/endpoints.yml" in (ROOT / "deploy" / "Dockerfile").read_text()
    # Secrets are required from the environment, never written in the file.
    assert "${ORDERDESK_REST_TOKEN:?" in (ROOT / "docker-compose.yml").read_text()


def test_nginx_balances_without_stickiness_and_never_replays_a_message():
    conf = "\n".join(line.split("#")[0] for line in (ROOT / "deploy" / "nginx" / "nginx.conf").read_text().splitlines())
    for sticky in ("ip_hash", "sticky", "\n    hash "):
        assert sticky not in conf
    rest = conf[conf.index("location /webhooks/rest/"):]
    assert "proxy_next_upstream off;" in rest[:rest.index("}")]


# --------------------------------------------------------------------------- Kubernetes

@pytest.mark.parametrize("name,doc", manifests(), ids=lambda v: v if isinstance(v, str) else v.get("kind"))
def test_each_kubernetes_manifest_is_valid(name, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_kubernetes_check_catches_a_bad_manifest():
    doc = copy.deepcopy(next(d for _, d in manifests() if d["kind"] == "Deployment"))
    doc["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    doc = copy.deepcopy(next(d for _, d in manifests() if d["kind"] == "Deployment"))
    doc["spec"]["template"]["spec"]["containers"][0]["envFromm"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_runs_two_replicas_of_each_server_with_no_affinity_and_secrets_by_reference():
    docs = manifests()
    deployments = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "Deployment"}
    assert deployments["orderdesk-rasa"]["spec"]["replicas"] >= 2
    assert deployments["orderdesk-actions"]["spec"]["replicas"] >= 2
    for _, d in docs:
        if d["kind"] == "Service":
            assert d["spec"].get("sessionAffinity", "None") == "None"
        if d["kind"] == "Ingress":
            assert not [k for k in d["metadata"].get("annotations", {}) if "affinity" in k or "hash" in k]
        if d["kind"] == "ConfigMap":
            assert not [k for k in d["data"] if "PASSWORD" in k or "SECRET" in k or "TOKEN" in k]
    assert any(d["kind"] == "CronJob" for _, d in docs)  # the sweep


# --------------------------------------------------------------------------- the production endpoints

def test_the_production_endpoints_load_the_threaded_sql_tracker_store_and_the_atomic_lock_store(monkeypatch):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    from orderdesk.lockstore import AtomicRedisLockStore

    for name, value in {"RASA_DB_HOST": "db.internal", "RASA_DB_NAME": "rasa", "RASA_DB_USER": "u",
                        "RASA_DB_PASSWORD": "p", "REDIS_HOST": "redis.internal", "REDIS_PORT": "6380",
                        "REDIS_DB": "2", "REDIS_PASSWORD": "", "ORDERDESK_ACTIONS_URL": "http://lb:5055/webhook",
                        "ORDERDESK_ACTIONS_SECRET": "s3cret"}.items():
        monkeypatch.setenv(name, value)
    path = str(ROOT / "deploy" / "endpoints.yml")
    tracker = read_endpoint_config(path, "tracker_store")
    assert (tracker.type, tracker.kwargs["dialect"], tracker.url) == (
        "orderdesk.servers.trackerstore.ThreadedSQLTrackerStore", "postgresql", "db.internal")
    assert read_endpoint_config(path, "action_endpoint").headers == {"Authorization": "Bearer s3cret"}
    store = LockStore.create(read_endpoint_config(path, "lock_store"))  # connects lazily
    assert isinstance(store, AtomicRedisLockStore)
    assert (store._connection["host"], store._connection["port"], store._connection["db"],
            store._connection["password"]) == ("redis.internal", 6380, 2, None)
