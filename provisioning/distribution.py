"""Assembling a real OpenSearch distribution from Maven artifacts, with the analysis plugins rcu needs.

The route (see README, "The local node"): OpenSearch publishes its server as
`org.opensearch.distribution.integ-test-zip:opensearch:<version>:zip`; from 3.x on that zip carries the
modules rcu needs (analysis-common, mapper-extras, lang-painless, reindex). The phonetic plugin is
published as a jar (`org.opensearch.plugin:analysis-phonetic`) with its Lucene dependencies; rcu
writes its plugin descriptor, zips it and installs it with `bin/opensearch-plugin install --batch`.
OpenSearch's analysis-icu plugin is not published on the registry, so rcu builds a small plugin
(`rcu-analysis-icu`, java/IcuAnalysisPlugin.java) on Lucene's own lucene-analysis-icu that provides
the same `icu_folding`, `icu_normalizer` and `icu_tokenizer`.

Everything is fetched with `mvn dependency:copy-dependencies`, so it comes through the machine's
configured Maven registry and cache: once assembled, starting a node downloads nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from provisioning.errors import NodeSetupError
from provisioning.java_runtime import Jdk

log = logging.getLogger(__name__)

OPENSEARCH_VERSION = "3.8.0"
"""The one pinned OpenSearch version (docker/.env repeats it for Docker; a test keeps them equal)."""

MINIMUM_JAVA = 21
"""OpenSearch 3.x runs on Java 21 or newer."""

DISTRIBUTION = f"org.opensearch.distribution.integ-test-zip:opensearch:{OPENSEARCH_VERSION}:zip"
JAVA_SOURCES = Path(__file__).parent / "java"
ASSEMBLED_MARKER = ".rcu-assembled"


@dataclass(frozen=True)
class PluginBundle:
    """A plugin rcu installs into the distribution: Maven artifacts, optionally a class compiled here."""

    name: str
    classname: str
    description: str
    artifacts: tuple[str, ...]
    java_source: str | None = None


def plugin_bundles(lucene_version: str) -> tuple[PluginBundle, ...]:
    return (
        PluginBundle(
            name="analysis-phonetic",
            classname="org.opensearch.plugin.analysis.AnalysisPhoneticPlugin",
            description="Phonetic token filters (beider_morse, double_metaphone, …) from OpenSearch.",
            artifacts=(f"org.opensearch.plugin:analysis-phonetic:{OPENSEARCH_VERSION}",),
        ),
        PluginBundle(
            name="rcu-analysis-icu",
            classname="org.rcu.opensearch.icu.IcuAnalysisPlugin",
            description="icu_folding, icu_normalizer and icu_tokenizer on Lucene's lucene-analysis-icu.",
            artifacts=(f"org.apache.lucene:lucene-analysis-icu:{lucene_version}",),
            java_source="IcuAnalysisPlugin.java",
        ),
    )


def _require_tool(name: str, hint: str) -> str:
    path = shutil.which(name)
    if not path:
        raise NodeSetupError(f"`{name}` is not on the PATH; the managed OpenSearch node needs it.", hint=hint)
    return path


def _run(command: list[str], what: str, env: dict[str, str] | None = None, hint: str = "") -> None:
    log.info("node_setup step=%s command=%s", what, " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-25:])
        raise NodeSetupError(
            f"{what} failed (exit {result.returncode}): {' '.join(command)}",
            hint=hint,
            details=tail,
        )


def _maven_pom(artifacts: tuple[str, ...]) -> str:
    dependencies = []
    for coordinate in artifacts:
        group, artifact, version, *packaging = coordinate.split(":")
        kind = f"<type>{escape(packaging[0])}</type>" if packaging else ""
        dependencies.append(
            f"<dependency><groupId>{escape(group)}</groupId><artifactId>{escape(artifact)}</artifactId>"
            f"<version>{escape(version)}</version>{kind}</dependency>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>rcu.local</groupId><artifactId>opensearch-node</artifactId><version>1</version>"
        f"<packaging>pom</packaging><dependencies>{''.join(dependencies)}</dependencies></project>"
    )


def fetch_artifacts(artifacts: tuple[str, ...], into: Path, transitive: bool = True) -> list[Path]:
    """Copy Maven artifacts (and their runtime dependencies) into `into` through `mvn`."""
    mvn = _require_tool(
        "mvn",
        "Install Maven (`apt-get install maven`) and a JDK, or point OPENSEARCH_URL at an existing cluster.",
    )
    into.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rcu-mvn-") as work:
        pom = Path(work) / "pom.xml"
        pom.write_text(_maven_pom(artifacts))
        command = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={into}",
            "-DincludeScope=runtime",
            f"-DexcludeTransitive={'false' if transitive else 'true'}",
        ]
        _run(
            command,
            f"Downloading {', '.join(artifacts)} from the Maven registry",
            hint="Check that this machine reaches its Maven registry (~/.m2/settings.xml) and run again.",
        )
    return sorted(into.iterdir())


def _lucene_version(distribution: Path) -> str:
    cores = sorted((distribution / "lib").glob("lucene-core-*.jar"))
    if not cores:
        raise NodeSetupError(f"No lucene-core jar in {distribution / 'lib'}: the distribution is incomplete.")
    return cores[0].name.removeprefix("lucene-core-").removesuffix(".jar")


def _descriptor(bundle: PluginBundle) -> str:
    return "\n".join(
        [
            f"description={bundle.description}",
            f"version={OPENSEARCH_VERSION}",
            f"name={bundle.name}",
            f"classname={bundle.classname}",
            f"java.version={MINIMUM_JAVA}",
            f"opensearch.version={OPENSEARCH_VERSION}",
            "custom.foldername=",
            "extended.plugins=",
            "has.native.controller=false",
            "",
        ]
    )


def _compile_plugin_class(bundle: PluginBundle, jars: list[Path], distribution: Path, jdk: Jdk, work: Path) -> Path:
    classes = work / "classes"
    classes.mkdir()
    classpath = os.pathsep.join([str(distribution / "lib" / "*"), *map(str, jars)])
    source = JAVA_SOURCES / str(bundle.java_source)
    _run(
        [str(jdk.javac), "--release", str(MINIMUM_JAVA), "-cp", classpath, "-d", str(classes), str(source)],
        f"Compiling {source.name}",
    )
    jar = work / f"{bundle.name}-{OPENSEARCH_VERSION}.jar"
    _run([str(jdk.jar), "cf", str(jar), "-C", str(classes), "."], f"Packaging {jar.name}")
    return jar


def build_plugin_zip(bundle: PluginBundle, distribution: Path, jdk: Jdk, work: Path) -> Path:
    """A plugin zip `opensearch-plugin install` accepts: jars without the server's own, plus a descriptor."""
    downloaded = fetch_artifacts(bundle.artifacts, work / "jars")
    server_jars = {jar.name for jar in (distribution / "lib").glob("*.jar")}
    # A jar the server already ships would be loaded twice ("jar hell"): the server's copy wins.
    jars = [jar for jar in downloaded if jar.suffix == ".jar" and jar.name not in server_jars]
    if bundle.java_source:
        jars.append(_compile_plugin_class(bundle, jars, distribution, jdk, work))
    plugin_zip = work / f"{bundle.name}-{OPENSEARCH_VERSION}.zip"
    with zipfile.ZipFile(plugin_zip, "w", zipfile.ZIP_DEFLATED) as archive:
        for jar in jars:
            archive.write(jar, jar.name)
        archive.writestr("plugin-descriptor.properties", _descriptor(bundle))
    return plugin_zip


def node_environment(jdk: Jdk) -> dict[str, str]:
    return {**os.environ, "OPENSEARCH_JAVA_HOME": str(jdk.home), "JAVA_HOME": str(jdk.home)}


def _unpack(archive: Path, into: Path) -> Path:
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(into)
    (top,) = [entry for entry in into.iterdir() if entry.is_dir()]
    # zipfile drops the execute bits the scripts and the JDK launchers need.
    for script in (top / "bin").iterdir():
        script.chmod(0o755)
    return top


def ensure_distribution(home: Path, jdk: Jdk) -> Path:
    """The assembled distribution under `home`, built on first use and reused afterwards."""
    target = home / "dist" / f"opensearch-{OPENSEARCH_VERSION}"
    if (target / ASSEMBLED_MARKER).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="assembly-", dir=target.parent) as scratch:
        work = Path(scratch)
        (archive,) = [p for p in fetch_artifacts((DISTRIBUTION,), work / "download", transitive=False)]
        distribution = _unpack(archive, work / "unpacked")
        for bundle in plugin_bundles(_lucene_version(distribution)):
            plugin_work = work / bundle.name
            plugin_work.mkdir()
            plugin_zip = build_plugin_zip(bundle, distribution, jdk, plugin_work)
            _run(
                [str(distribution / "bin" / "opensearch-plugin"), "install", "--batch", plugin_zip.as_uri()],
                f"Installing the {bundle.name} plugin",
                env=node_environment(jdk),
            )
        (distribution / ASSEMBLED_MARKER).write_text(f"{OPENSEARCH_VERSION}\n")
        if target.exists():
            shutil.rmtree(target)
        distribution.rename(target)
    log.info("node_setup step=assembled path=%s", target)
    return target
