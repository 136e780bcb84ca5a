"""The README documents what the code offers: a test fails when something is left undocumented."""

from __future__ import annotations

import inspect
import re

import pytest

from geo import indicators
from loaders import config
from loaders.model import SCHEMAS
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert block, "README must open with a bash block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands():
    assert README.index("```bash") < README.index("## ")
    run, test = readme_commands()
    assert "streamlit run app.py" in run
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()


@pytest.mark.parametrize("layer", sorted(config.manifest()))
def test_every_layer_of_the_manifest_is_documented(layer):
    assert f"| `{layer}` |" in README


@pytest.mark.parametrize(
    "kind,column", [(kind, col.name) for kind, cols in SCHEMAS.items() for col in cols]
)
def test_every_model_column_is_documented(kind, column):
    assert f"| `{column}` |" in README, f"{kind}.{column} missing from the README data model"


@pytest.mark.parametrize(
    "name",
    [
        n
        for n, f in inspect.getmembers(indicators, inspect.isfunction)
        if f.__module__ == indicators.__name__ and not n.startswith("_")
    ],
)
def test_every_indicator_is_documented(name):
    assert f"| `{name}` |" in README


def _env_vars_in_code() -> set[str]:
    found = set()
    for folder in ("loaders", "geo", "pages"):
        for path in (REPO / folder).rglob("*.py"):
            found |= set(re.findall(r"\"(ESS_[A-Z_]+)", path.read_text(encoding="utf-8")))
    return {v.rstrip("_") for v in found}


@pytest.mark.parametrize("var", sorted(_env_vars_in_code()))
def test_every_environment_variable_is_documented(var):
    assert f"`{var}" in README


def test_every_page_has_a_browser_test():
    from pages.shared import PAGE_SPECS

    pages = [re.fullmatch(r"pages/(\w+)\.py", script).group(1) for script, _, _ in PAGE_SPECS]
    assert len(pages) == len(list((REPO / "pages").glob("*.py"))) - 1  # all but shared.py
    browser_tests = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO / "tests" / "browser").glob("test_*.py")
    )
    for page in pages:
        opened = f'"{page}"' in browser_tests or f"/{page}" in browser_tests
        assert opened, f"no browser test opens pages/{page}.py"
