"""Pure parts of the node assembly: no node needed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from provisioning.distribution import OPENSEARCH_VERSION, _descriptor, _maven_pom, plugin_bundles
from provisioning.errors import NodeSetupError
from provisioning.java_runtime import find_jdk, jdk_major

ROOT = Path(__file__).resolve().parents[2]


def _fake_jdk(root: Path, version: str) -> Path:
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "javac").write_text("")
    (root / "release").write_text(f'JAVA_VERSION="{version}"\n')
    return root


def test_docker_compose_pins_the_same_opensearch_version() -> None:
    env = (ROOT / ".env").read_text()
    assert re.search(r"^OPENSEARCH_VERSION=(.+)$", env, re.M).group(1) == OPENSEARCH_VERSION


def test_jdk_version_is_read_from_the_release_file(tmp_path: Path) -> None:
    assert jdk_major(_fake_jdk(tmp_path / "a", "25.0.3")) == 25
    assert jdk_major(_fake_jdk(tmp_path / "b", "1.8.0_392")) == 8
    assert jdk_major(tmp_path) is None


def test_a_configured_jdk_too_old_is_refused_with_a_hint(tmp_path: Path) -> None:
    old = _fake_jdk(tmp_path / "jdk17", "17.0.15")
    with pytest.raises(NodeSetupError) as raised:
        find_jdk(21, configured=old)
    assert "21" in raised.value.message and raised.value.hint


def test_a_configured_recent_jdk_is_chosen(tmp_path: Path) -> None:
    recent = _fake_jdk(tmp_path / "jdk25", "25.0.1")
    assert find_jdk(21, configured=recent).home == recent


def test_maven_pom_lists_every_artifact_with_its_packaging() -> None:
    pom = ET.fromstring(_maven_pom(("g.x:server:1.0:zip", "g.y:plugin:2.0")))
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    dependencies = [
        (d.findtext("m:artifactId", namespaces=ns), d.findtext("m:type", namespaces=ns))
        for d in pom.iterfind("m:dependencies/m:dependency", ns)
    ]
    assert dependencies == [("server", "zip"), ("plugin", None)]


def test_plugin_descriptors_name_the_pinned_version() -> None:
    for bundle in plugin_bundles("10.5.0"):
        descriptor = dict(line.split("=", 1) for line in _descriptor(bundle).splitlines() if line)
        assert descriptor["name"] == bundle.name
        assert descriptor["opensearch.version"] == OPENSEARCH_VERSION
        assert descriptor["classname"] == bundle.classname
