"""Finding a JDK the managed OpenSearch node can run on."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from provisioning.errors import NodeSetupError

JVM_FOLDERS = (Path("/usr/lib/jvm"), Path("/usr/local/lib/jvm"), Path("/opt/java"), Path("/opt"))


@dataclass(frozen=True)
class Jdk:
    home: Path
    major: int

    @property
    def javac(self) -> Path:
        return self.home / "bin" / "javac"

    @property
    def jar(self) -> Path:
        return self.home / "bin" / "jar"


def jdk_major(home: Path) -> int | None:
    """The feature version of the JDK at `home` (17, 21, 25…), read from its `release` file."""
    release = home / "release"
    if not release.is_file() or not (home / "bin" / "javac").is_file():
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', release.read_text(errors="replace"), re.M)
    if not match:
        return None
    major = int(match.group(1))
    # Java 8 and older report "1.8": the feature version is the second number.
    return int(match.group(2) or 0) if major == 1 else major


def _candidate_homes(configured: Path | None, environment_homes: tuple[Path, ...]) -> list[Path]:
    candidates: list[Path] = []
    if configured:
        candidates.append(configured)
    candidates.extend(environment_homes)
    java_on_path = shutil.which("java")
    if java_on_path:
        candidates.append(Path(java_on_path).resolve().parent.parent)
    for folder in JVM_FOLDERS:
        if folder.is_dir():
            candidates.extend(sorted(folder.iterdir(), reverse=True))
    return candidates


def find_jdk(minimum: int, configured: Path | None = None, environment_homes: tuple[Path, ...] = ()) -> Jdk:
    """The first JDK of at least version `minimum`: the configured one, then the environment's
    (OPENSEARCH_JAVA_HOME, JAVA_HOME, read by settings), the PATH, the usual folders."""
    seen: list[str] = []
    if configured is not None:
        major = jdk_major(configured)
        if major is None or major < minimum:
            raise NodeSetupError(
                f"RCU_JAVA_HOME={configured} is not a JDK {minimum} or newer (found version {major}).",
                hint=f"Point RCU_JAVA_HOME at a JDK {minimum}+ (with javac), or unset it to search the machine.",
            )
    for home in _candidate_homes(configured, environment_homes):
        major = jdk_major(home)
        if major is None:
            continue
        if major >= minimum:
            return Jdk(home=home, major=major)
        seen.append(f"{home} (Java {major})")
    found = ", ".join(dict.fromkeys(seen)) or "none"
    raise NodeSetupError(
        f"The managed OpenSearch node needs a JDK {minimum} or newer; JDKs found: {found}.",
        hint=(
            f"Install one (for example `apt-get install openjdk-{minimum}-jdk-headless`, or Temurin {minimum}+) "
            "and set RCU_JAVA_HOME to it, or point OPENSEARCH_URL at an existing cluster."
        ),
    )
