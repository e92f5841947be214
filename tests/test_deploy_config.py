"""What the deployment files promise: migrations before anything uses the database, health checks that
pass through host checks and HTTPS, TLS at a proxy, no secrets in the files, non-root read-only pods.

scripts/check-compose.sh validates docker-compose.yml with Compose and scripts/check-kubernetes.sh
renders and lints the Kubernetes manifests (both in CI); tests/test_production.py runs the same
commands without containers.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
BASE = ROOT / "deploy" / "kubernetes" / "base"
MANIFESTS = {
    (doc["kind"], doc["metadata"]["name"]): doc
    for path in sorted(BASE.glob("*.yaml")) if path.name != "kustomization.yaml"
    for doc in yaml.safe_load_all(path.read_text()) if doc
}


def pod_spec(manifest):
    spec = manifest["spec"]
    if manifest["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_compose_starts_web_worker_and_beat_only_after_migrations_succeeded(service):
    assert SERVICES[service]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert SERVICES["migrate"]["restart"] == "no"
    assert SERVICES["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}


def test_compose_health_checks_use_liveness_and_readiness_and_tls_ends_at_the_proxy():
    web_check = " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/health/ready/?check=database" in web_check
    assert "inspect ping" in " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert SERVICES["web"]["environment"]["TRUST_X_FORWARDED_PROTO"] == "1"
    assert "ports" not in SERVICES["web"], "the app is reached only through the proxy"
    assert sorted(SERVICES["proxy"]["ports"]) == ["443:443", "80:80"]
    assert SERVICES["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}
    template = (ROOT / "deploy/compose/nginx.conf.template").read_text()
    assert "ssl_certificate" in template and "X-Forwarded-Proto $scheme" in template
    assert re.search(r"location = /metrics \{\s*return 404;", template)


def test_compose_takes_every_secret_from_the_environment():
    text = (ROOT / "docker-compose.yml").read_text()
    for variable in ("POSTGRES_PASSWORD", "SECRET_KEY", "SITE_HOST", "TLS_CERT_DIR"):
        assert f"${{{variable}:?" in text, f"{variable} must be required from the environment"
    assert SERVICES["web"]["environment"]["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"


def test_every_kubernetes_pod_runs_non_root_read_only_with_resources():
    pods = {name: pod_spec(m) for (kind, name), m in MANIFESTS.items() if kind in {"Deployment", "Job", "CronJob"}}
    assert set(pods) == {"web", "worker", "beat", "migrate", "clear-expired-sessions"}
    for name, spec in pods.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert container["resources"]["requests"] and container["resources"]["limits"], (name, container["name"])


def test_kubernetes_web_probes_liveness_and_readiness_separately_and_waits_for_migrations():
    web = pod_spec(MANIFESTS[("Deployment", "web")])
    container = web["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live/"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready/?check=database"
    for name in ("web", "worker", "beat"):
        init = pod_spec(MANIFESTS[("Deployment", name)])["initContainers"][0]
        assert "migrate --check" in " ".join(init["command"]), name
    assert MANIFESTS[("Job", "migrate")]["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python", "manage.py", "migrate", "--noinput"]


def test_kubernetes_has_one_beat_probed_workers_autoscaled_web_and_a_network_policy():
    beat = MANIFESTS[("Deployment", "beat")]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    worker = pod_spec(MANIFESTS[("Deployment", "worker")])["containers"][0]
    assert "inspect ping" in " ".join(worker["livenessProbe"]["exec"]["command"])
    assert worker["readinessProbe"]
    assert MANIFESTS[("HorizontalPodAutoscaler", "web")]["spec"]["scaleTargetRef"]["name"] == "web"
    assert MANIFESTS[("PodDisruptionBudget", "web")]["spec"]["minAvailable"] >= 1
    assert MANIFESTS[("NetworkPolicy", "default-deny")]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert MANIFESTS[("Ingress", "web")]["spec"]["tls"]


def test_kubernetes_files_hold_no_secrets():
    for path in (ROOT / "deploy").rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not doc or doc.get("kind") != "Secret", f"{path.name}: secrets come from the cluster's store"
