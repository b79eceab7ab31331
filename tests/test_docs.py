"""The README is a contract: its commands run, its links resolve, it stays short."""

from __future__ import annotations

import re
import shlex

from conftest import ROOT

from senderscore.cli import build_parser

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_exactly_the_two_commands():
    block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make report", "make test"]
    assert README.index("```bash") < 40  # the first lines, not somewhere below


def test_readme_is_short_and_its_links_resolve():
    assert len(README.encode()) < 8_000
    links = re.findall(r"\]\(([^)#]+)\)", README)
    assert links and all((ROOT / link).exists() for link in links), links
    for page in (ROOT / "docs").glob("*.md"):
        for link in re.findall(r"\]\((\.\./[^)#]+|[a-z]+\.md)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / link).exists(), (page.name, link)


def test_readme_command_lines_are_valid_cli_calls():
    lines = [line[2:] for line in README.splitlines() if line.startswith("$ senderscore ")]
    assert len(lines) >= 5
    for line in lines:
        args = shlex.split(line.split("  #")[0])[1:]
        build_parser().parse_args(args)  # an unknown option or choice exits 2 here


def test_environment_yml_takes_the_dependencies_of_pyproject_from_conda_forge():
    import tomllib

    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python>", "pip"))]
    renamed = {"python-duckdb": "duckdb"}  # conda-forge's name for the Python package
    names = [re.split("[<>=]", d)[0] for d in conda]
    conda = sorted(renamed.get(name, name) + d[len(name) :] for name, d in zip(names, conda, strict=True))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = ("report", "explore", "scale")
    wanted = [*project["dependencies"], *(d for e in extras for d in project["optional-dependencies"][e])]
    assert conda == sorted({d for d in wanted if not d.startswith("senderscore")})
    assert "python>=3.11" in env["dependencies"] and {"pip": ['-e ".[report,explore,scale]"']} in env["dependencies"]
