"""The Kubernetes manifests validate against Kubernetes' schemas and reference each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from tests.deploy.queries import DEPLOY

K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30.0"


def kustomization() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    return data


def resources() -> list[dict[str, Any]]:
    docs = []
    for path in kustomization()["resources"]:
        docs += [doc for doc in yaml.safe_load_all((DEPLOY / path).read_text()) if doc]
    return docs


def named(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in resources() if doc["kind"] == kind}


def test_every_manifest_file_is_listed_in_the_kustomization() -> None:
    listed = {Path(path).name for path in kustomization()["resources"]}
    assert listed == {path.name for path in K8S.glob("*.yaml")}


@pytest.mark.parametrize("doc", resources(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_validates_strictly(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_generated_config_maps_come_from_files_that_exist() -> None:
    for generator in kustomization()["configMapGenerator"]:
        for entry in generator["files"]:
            assert (DEPLOY / entry.split("=")[-1]).is_file(), entry


def pod_specs() -> dict[str, dict[str, Any]]:
    workloads = {**named("Deployment"), **named("StatefulSet")}
    return {name: doc["spec"]["template"]["spec"] for name, doc in workloads.items()}


def test_references_resolve() -> None:
    config_maps = set(named("ConfigMap")) | {
        g["name"] for g in kustomization()["configMapGenerator"]
    }
    claims = set(named("PersistentVolumeClaim"))
    secrets = set(named("Secret"))
    for name, spec in pod_specs().items():
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, name
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in config_maps, name
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets, name
    hpa = named("HorizontalPodAutoscaler")["gateway"]
    assert hpa["spec"]["scaleTargetRef"]["name"] in named("Deployment")


def test_scale_out_layout() -> None:
    specs = pod_specs()
    assert {"gateway", "vllm", "worker", "redis", "postgres", "prometheus", "grafana"} <= set(specs)
    vllm = specs["vllm"]["containers"][0]
    assert "--enable-lora" in vllm["args"]
    assert {"name": "VLLM_ALLOW_RUNTIME_LORA_UPDATING", "value": "True"} in vllm["env"]
    assert vllm["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "nvidia.com/gpu.present" in specs["vllm"]["nodeSelector"]
    data_claim = {"name": "data", "persistentVolumeClaim": {"claimName": "loragate-data"}}
    for name in ("gateway", "vllm", "worker"):
        assert data_claim in specs[name]["volumes"], name
    assert named("PersistentVolumeClaim")["loragate-data"]["spec"]["accessModes"] == [
        "ReadWriteMany"
    ]
    config = named("ConfigMap")["loragate-config"]["data"]
    assert "LORAGATE_UPSTREAMS" not in config  # engines come from DNS, not a static list
    host, port = config["LORAGATE_DISCOVERY__DNS"].split(":")
    engines = named("Service")["vllm"]["spec"]
    assert engines["clusterIP"] == "None"  # headless: one A record per ready pod
    assert host == "vllm"
    assert int(port) == engines["ports"][0]["port"]
    gateway_env = {
        env["name"]: env.get("value") for env in specs["gateway"]["containers"][0]["env"]
    }
    assert gateway_env["LORAGATE_METRICS__MULTIPROC_DIR"] == "/run/loragate-metrics"
    assert gateway_env["LORAGATE_ROUTING__SHARE_DIR"].startswith("/run/")  # per pod
