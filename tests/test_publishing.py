"""Publishing a fork: one repository URL everywhere, the tool that sets it, the GitHub Actions
workflows (linted by actionlint, and shaped as reference/instructors.md says) and the guide.

tests/test_hygiene.py checks that each setup cell installs from ``_config.yml``'s URL; the
checks here make that exact (no other URL beside it) and extend it to the README and the guide.
"""

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cnnlib.grading.authoring import generate_all

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
GUIDE = ROOT / "reference" / "instructors.md"
SET_URL = ROOT / "scripts" / "set_repository_url.py"
ACTIONLINT = Path(sys.executable).parent / "actionlint"
NOTEBOOK_DIRS = ("chapters", "exercises", "reference")
NOTEBOOKS = sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
URL = CONFIG["repository"]["url"]
# Pages that tell the reader where the repository is.
PAGES_NAMING_THE_REPOSITORY = ("README.md", "intro.md", "reference/instructors.md")


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


# --- one repository URL ------------------------------------------------------------------------
GITHUB_REPO = re.compile(r"https?://(?:www\.)?github\.com/[A-Za-z0-9-]+/[A-Za-z0-9._-]+")
PIP_URL = re.compile(r"git\+(https?://[^\s\"'@]+)")


def setup_cell_urls(nb: dict) -> list[str]:
    """Every ``git+<url>`` of the notebook's first cell."""
    return PIP_URL.findall("".join(nb["cells"][0]["source"]))


def repository_urls(text: str) -> list[str]:
    """GitHub repository URLs in ``text``, with a sentence's closing dot or ``.git`` removed."""
    return [u.rstrip(".").removesuffix(".git") for u in GITHUB_REPO.findall(text)]


def test_the_url_finders_see_a_second_or_different_url():
    cell = {"source": ['%pip install "cnnlib @ git+https://github.com/a/b"\n',
                       "%pip install git+https://github.com/c/d@main torch\n"]}
    assert setup_cell_urls({"cells": [cell]}) == ["https://github.com/a/b",
                                                  "https://github.com/c/d"]
    text = ("See https://github.com/a/b. Or github.com/x/y, https://github.com/a/b.git and "
            "`https://github.com/<you>/<repo>` and https://docs.github.com/en/pages.")
    assert repository_urls(text) == ["https://github.com/a/b", "https://github.com/a/b"]


def test_the_config_url_is_a_github_repository():
    assert GITHUB_REPO.fullmatch(URL), URL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids(NOTEBOOKS))
def test_the_setup_cell_installs_from_the_config_url_only(path):
    urls = setup_cell_urls(json.loads(path.read_text()))
    assert urls == [URL], f"the setup cell installs from {urls}, _config.yml says {URL}: run " \
                          f"make set-url URL={URL}"


@pytest.mark.parametrize("name", PAGES_NAMING_THE_REPOSITORY)
def test_the_readme_and_the_guide_name_no_other_repository(name):
    others = sorted(set(repository_urls((ROOT / name).read_text())) - {URL})
    assert not others, f"{name} names {others}; _config.yml's repository is {URL}"


# --- make set-url ------------------------------------------------------------------------------
def course_copy(tmp_path: Path) -> Path:
    """The files set-url reads and writes, and the Makefile that runs it."""
    root = tmp_path / "course"
    root.mkdir()
    for name in (*NOTEBOOK_DIRS, "scripts"):
        shutil.copytree(ROOT / name, root / name,
                        ignore=shutil.ignore_patterns(".*", "__pycache__"))
    for name in ("_config.yml", "README.md", "Makefile"):
        shutil.copy2(ROOT / name, root / name)
    return root


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts}


def make_set_url(root: Path, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", "-C", str(root), "set-url", f"URL={url}"],
                          capture_output=True, text=True, timeout=120)


def test_make_set_url_rewrites_the_config_every_setup_cell_and_the_readme_only(tmp_path):
    root = course_copy(tmp_path)
    before = snapshot(root)
    new = "https://github.com/someone/their-course"
    done = make_set_url(root, new + ".git/")  # normalised to the plain URL
    assert done.returncode == 0, done.stderr
    after = snapshot(root)

    changed = {name for name in before if after[name] != before[name]}
    notebooks = {name for name in before if name.endswith(".ipynb")}
    assert changed == notebooks | {"_config.yml", "README.md"}
    for name in changed:  # the URL is all that changed
        assert after[name].replace(new, URL) == before[name], name
        assert URL not in after[name], name
    assert yaml.safe_load(after["_config.yml"])["repository"]["url"] == new
    for name in notebooks:
        assert setup_cell_urls(json.loads(after[name])) == [new], name
    assert set(repository_urls(after["README.md"])) == {new}
    # the student notebooks are still exactly what their sources generate
    assert generate_all(root / "exercises", check=True) == []

    assert make_set_url(root, URL).returncode == 0  # and back: byte for byte
    assert snapshot(root) == before


def test_set_url_needs_only_the_standard_library():
    tree = ast.parse(SET_URL.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported and imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    assert re.search(r"^set-url:\n(\t.*\n)*\t\$\(PYTHON\) scripts/set_repository_url\.py",
                     (ROOT / "Makefile").read_text(), re.MULTILINE)


def test_make_set_url_refuses_what_is_not_a_github_repository(tmp_path):
    root = course_copy(tmp_path)
    before = snapshot(root)
    for url in ("https://gitlab.com/someone/course", "github.com/someone", ""):
        done = make_set_url(root, url)
        assert done.returncode != 0, url
        assert "https://github.com/<" in done.stdout + done.stderr, url
    assert snapshot(root) == before


# --- the workflows -----------------------------------------------------------------------------
def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads `on` as true
    return workflow


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def step_using(workflow: dict, job: str, action: str) -> dict:
    found = [s for s in steps(workflow, job) if s.get("uses", "").startswith(action + "@")]
    assert len(found) >= 1, f"no step of {job} uses {action}"
    return found[0]


def index_of_run(workflow: dict, job: str, pattern: str) -> int:
    found = [i for i, s in enumerate(steps(workflow, job)) if re.search(pattern, s.get("run", ""))]
    assert found, f"no step of {job} runs {pattern!r}"
    return found[0]


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(ACTIONLINT), "-no-color", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def test_the_workflows_pass_actionlint():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {p.name for p in files} == {"book.yml", "weekly.yml"}
    done = actionlint(*files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_fails_on_a_broken_workflow(tmp_path):
    text = (WORKFLOWS / "book.yml").read_text()
    broken = {
        "needs an unknown job": text.replace("needs: build", "needs: biuld"),
        "reads an unknown context": text.replace("steps.deployment.outputs", "step.deployment"),
        "misses an action's input": re.sub(r"\n *key: book-.*", "", text),
    }
    for why, workflow in broken.items():
        assert workflow != text, why
        path = tmp_path / ".github" / "workflows" / "book.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(workflow)
        done = actionlint(path)
        assert done.returncode != 0 and "book.yml" in done.stdout, why


def test_make_lint_runs_actionlint_on_the_workflows_and_make_test_runs_lint():
    def dry_run(target):
        return subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True,
                              timeout=60).stdout

    lint = dry_run("lint")
    assert re.search(r"actionlint .*\.github/workflows/book\.yml", lint), lint
    assert ".github/workflows/weekly.yml" in lint
    assert "actionlint" in dry_run("test")


def test_the_book_workflow_tests_then_publishes_on_every_push_to_main():
    wf = load("book.yml")
    assert wf["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in wf["on"]
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    assert wf["concurrency"]["group"]
    # 3.11 last (the default python3), 3.13 for `make colab`
    versions = step_using(wf, "build", "actions/setup-python")["with"]["python-version"].split()
    assert versions == ["3.13", "3.11"], versions
    assert "CNNLIB_DATA" not in yaml.safe_dump(wf)  # MNIST downloads on GitHub's runners
    test = index_of_run(wf, "build", r"^make test\s*$")
    upload = steps(wf, "build").index(step_using(wf, "build", "actions/upload-pages-artifact"))
    assert steps(wf, "build")[upload]["with"]["path"] == "_build/html"
    assert test < upload
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    step_using(wf, "deploy", "actions/deploy-pages")


def test_the_book_workflow_keeps_the_execution_cache_keyed_on_the_notebooks():
    wf = load("book.yml")
    caches = [s["with"] for s in steps(wf, "build")
              if s.get("uses", "").startswith("actions/cache@")]
    book = [c for c in caches if "_build/.jupyter_cache" in c["path"].split()]
    assert len(book) == 1 and "_build/trained-models" in book[0]["path"].split()
    assert any(c["path"].strip() == "~/.cache/cnnlib" for c in caches)  # MNIST, once downloaded
    key, restore = book[0]["key"], book[0]["restore-keys"]
    assert "hashFiles(" in key
    for folder in NOTEBOOK_DIRS:
        assert f"'{folder}/**/*.ipynb'" in key, folder
    assert key.startswith(restore.strip())  # a changed notebook starts from the last cache
    cache = steps(wf, "build").index(step_using(wf, "build", "actions/cache"))
    assert cache < index_of_run(wf, "build", r"^make test\s*$")


def test_the_weekly_workflow_tests_the_newest_versions_and_opens_an_issue_on_failure():
    wf = load("weekly.yml")
    assert wf["on"]["schedule"] == [{"cron": "0 5 * * 1"}]  # Mondays, 05:00 UTC
    assert "workflow_dispatch" in wf["on"]
    assert wf["permissions"]["issues"] == "write"
    (job,) = wf["jobs"]
    upgrade = index_of_run(wf, job, r"pip install --upgrade --upgrade-strategy eager "
                                    r"-r requirements\.txt")
    test = index_of_run(wf, job, r"^make test\s*$")
    assert upgrade < test
    assert "pip list" in steps(wf, job)[upgrade]["run"]  # the versions the run got
    assert "restore-keys" not in yaml.safe_dump(wf)  # no execution cache: every notebook runs
    report = steps(wf, job)[-1]
    assert report["if"] == "failure()"
    assert "GITHUB_TOKEN" in report["env"]["GH_TOKEN"]
    assert "gh issue create" in report["run"] and "gh issue comment" in report["run"]
    title = "The weekly run with the newest dependencies fails"  # as the guide names it
    assert title in report["run"] and title in " ".join(GUIDE.read_text().split())


# --- the guide ---------------------------------------------------------------------------------
def test_the_guide_is_a_page_under_about_this_book_before_the_report():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    (about,) = [p for p in toc["parts"] if p["caption"] == "About this book"]
    files = [c["file"] for c in about["chapters"]]
    assert files.index("reference/instructors") < files.index("reports")
    assert GUIDE.read_text().startswith("# For instructors")


def test_the_commands_the_guide_and_readme_give_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    cli = (ROOT / "cnnlib" / "grading" / "cli.py").read_text()
    for name in ("reference/instructors.md", "README.md"):
        text = (ROOT / name).read_text()
        for target in re.findall(r"(?:^ *|`)make ([a-z][a-z-]*)", text, re.MULTILINE):
            assert target in targets, f"{name}: make {target} is not a Makefile target"
        for command in re.findall(r"cnnlib-grade ([a-z]+)", text):
            assert f'"{command}"' in cli, f"{name}: cnnlib-grade {command} does not exist"
        for workflow in re.findall(r"`([a-z]+\.yml)`", text):
            assert (WORKFLOWS / workflow).is_file() or (ROOT / workflow).is_file(), workflow


def test_what_the_guide_says_of_the_build():
    # `make test` builds the PDF, so the Book workflow publishes it with the site.
    prerequisites = re.search(r"^test:(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert "pdf" in prerequisites.group(1).split()
    # The exercises' solutions stay out of the website.
    assert "exercises/sources" in CONFIG["exclude_patterns"]
    assert CONFIG["only_build_toc_files"] is True
