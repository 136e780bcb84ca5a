"""The install is reproducible: the locks pin every package, and this environment matches them."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;\s*(.+))?$")


def lock(name: str) -> dict[str, str]:
    """{package: version} of a lock, for the lines whose markers apply to this interpreter."""
    pins: dict[str, str] = {}
    for line in (REPO / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"{name}: not an exact pin: {line!r}"
        package, version, marker = match.groups()
        if marker is None or Marker(marker).evaluate():
            pins[canonicalize_name(package)] = version
    return pins


def test_every_declared_dependency_is_pinned_and_its_lower_bound_is_what_we_test():
    run, test = lock("requirements.lock"), lock("requirements-test.lock")
    declared = [(d, run) for d in PYPROJECT["project"]["dependencies"]]
    declared += [(d, test) for d in PYPROJECT["project"]["optional-dependencies"]["test"]]
    for text, pins in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in the lock"
        locked = Version(pins[name])
        assert requirement.specifier.contains(locked), (text, locked)
        floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        assert floors, f"{text}: declare the lower bound the tests run with"
        # the declared floor is the tested release line, not an older one never tried
        assert floors[0].release[:2] == locked.release[:2], (text, locked)


def test_the_run_lock_is_the_test_lock_without_the_test_tools():
    run, test = lock("requirements.lock"), lock("requirements-test.lock")
    assert {k: test[k] for k in run} == run


def test_this_environment_is_the_locked_one():
    """Fails when the suite runs in an environment that drifted from requirements-test.lock."""
    drift = {}
    for package, version in lock("requirements-test.lock").items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            installed = None
        if installed is None or Version(installed) != Version(version):
            drift[package] = (version, installed)
    assert drift == {}
