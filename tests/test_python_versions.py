"""The Pythons the course runs on: 3.11 (the project's venv, CI) and 3.13 (Colab's).

No file of the course imports a standard-library module that Python 3.12 or 3.13 removed
(PEP 594's "dead batteries", distutils, imp, lib2to3, ...), nor uses an API that they removed
(``unittest``'s old aliases, ``ssl.wrap_socket``, ``locale.resetlocale``...); the AST of every
``.py`` file and of every notebook's code cells is searched, so the check holds whichever
Python runs it. And ``requires-python`` says what runs: its lower bound is the Python of CI
and of ruff's target, and Colab's Python (colab/constraints.txt) is admitted.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from cnnlib.grading.notebook import strip_magics

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"_build", "node_modules", "__pycache__", "test-artifacts", "bench-results",
             "grading-out"}  # the hidden folders (.venv, .git) too

#: Standard-library modules removed, with the Python that removed them.
REMOVED_MODULES = {
    **dict.fromkeys(("distutils", "imp", "asynchat", "asyncore", "smtpd"), "3.12"),
    **dict.fromkeys(("aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap",
                     "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd",
                     "sunau", "telnetlib", "uu", "xdrlib", "lib2to3", "tkinter.tix"), "3.13"),
    # not the standard library's, but a fresh venv of Python >= 3.12 has no setuptools
    "pkg_resources": "3.12 (venvs without setuptools)",
}

#: ``module.name`` APIs removed (``from module import name`` alike).
REMOVED_APIS = {
    **dict.fromkeys((
        "configparser.SafeConfigParser", "ssl.wrap_socket", "ssl.match_hostname",
        "ssl.RAND_pseudo_bytes", "locale.format", "importlib.find_loader",
        "importlib.abc.Finder", "importlib.util.set_package", "importlib.util.set_loader",
        "importlib.util.module_for_loader", "pkgutil.ImpImporter", "pkgutil.ImpLoader",
        "io.OpenWrapper", "sqlite3.enable_shared_cache", "sqlite3.OptimizedUnicode"), "3.12"),
    **dict.fromkeys((
        "locale.resetlocale", "typing.io", "typing.re", "re.template", "re.TEMPLATE",
        "unittest.findTestCases", "unittest.makeSuite", "unittest.getTestCaseNames",
        "ctypes.SetPointerType", "ctypes.ARRAY", "webbrowser.MacOSX",
        "configparser.LegacyInterpolation"), "3.13"),
    # deprecated (a warning on every use) since 3.12, gone in 3.14
    **dict.fromkeys(("ast.Num", "ast.Str", "ast.Bytes", "ast.NameConstant", "ast.Ellipsis"),
                    "3.14"),
}

#: Methods removed, found as ``anything.name(...)``: names no other API uses.
REMOVED_METHODS = {
    **dict.fromkeys((
        "failUnless", "failIf", "failUnlessEqual", "failIfEqual", "failUnlessAlmostEqual",
        "failIfAlmostEqual", "failUnlessRaises", "assert_", "assertEquals", "assertNotEquals",
        "assertAlmostEquals", "assertNotAlmostEquals", "assertRegexpMatches",
        "assertNotRegexpMatches", "assertRaisesRegexp", "assertDictContainsSubset",
        "readfp", "link_to"), "3.12"),
    **dict.fromkeys(("settiltangle", "usageExit"), "3.13"),
}


def _files(suffix: str) -> list[Path]:
    """The repository's files ending in ``suffix``, outside :data:`SKIP_DIRS` and hidden
    folders."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        found += [Path(folder) / f for f in files if f.endswith(suffix)]
    return sorted(found)


def _sources() -> list[tuple[str, str]]:
    """``(where, python source)`` of every .py file and every notebook code cell."""
    out = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in _files(".py")]
    for nb_path in _files(".ipynb"):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                source = strip_magics("".join(cell["source"]))
                if source is not None:
                    out.append((f"{nb_path.relative_to(ROOT)}, cell {i}", source))
    return out


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _removed_module(name: str) -> str | None:
    for module, version in REMOVED_MODULES.items():
        if name == module or name.startswith(module + "."):
            return f"module {module} (removed in Python {version})"
    return None


def _import_findings(node: ast.AST, aliases: dict[str, str]) -> list[str]:
    found = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            found.append(_removed_module(alias.name))
            aliases[(alias.asname or alias.name).split(".")[0]] = \
                alias.name if alias.asname else alias.name.split(".")[0]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        found.append(_removed_module(node.module))
        for alias in node.names:
            full = f"{node.module}.{alias.name}"
            found.append(_removed_module(full))
            if full in REMOVED_APIS:
                found.append(f"{full} (removed in Python {REMOVED_APIS[full]})")
            aliases[alias.asname or alias.name] = full
    return [f for f in found if f]


def removed_uses(source: str) -> list[str]:
    """What ``source`` uses that Python 3.12, 3.13 (or, deprecated already, 3.14) removed."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):  # imports first: a name is resolved through its import
        found += _import_findings(node, aliases)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted:
                head, _, rest = dotted.partition(".")
                full = f"{aliases.get(head, head)}.{rest}" if rest else dotted
                if full in REMOVED_APIS and head in aliases:
                    found.append(f"{full} (removed in Python {REMOVED_APIS[full]})")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in REMOVED_METHODS:
            found.append(f".{node.func.attr}() (removed in Python "
                         f"{REMOVED_METHODS[node.func.attr]})")
    return sorted(set(found))


def test_the_search_covers_the_course():
    where = {w.split(",")[0] for w, _ in _sources()}
    for expected in ("cnnlib/grading/checker.py", "scripts/colab_check.py",
                     "tests/test_python_versions.py", "chapters/04_conv2d.ipynb",
                     "exercises/sources/02_conv1d.ipynb", "reference/notation.ipynb"):
        assert expected in where


def test_no_file_uses_what_python_3_12_or_3_13_removed():
    problems = [f"{where}: {use}" for where, source in _sources()
                for use in removed_uses(source)]
    assert problems == []


@pytest.mark.parametrize(("source", "expected"), [
    ("import imghdr", "module imghdr (removed in Python 3.13)"),
    ("import distutils.util", "module distutils (removed in Python 3.12)"),
    ("from lib2to3 import pytree", "module lib2to3 (removed in Python 3.13)"),
    ("from tkinter import tix", "module tkinter.tix (removed in Python 3.13)"),
    ("import pipes as p\np.quote('x')", "module pipes (removed in Python 3.13)"),
    ("import ssl\nssl.wrap_socket(s)", "ssl.wrap_socket (removed in Python 3.12)"),
    ("import locale as L\nL.resetlocale()", "locale.resetlocale (removed in Python 3.13)"),
    ("from unittest import makeSuite", "unittest.makeSuite (removed in Python 3.13)"),
    ("import ast\nast.Num(1)", "ast.Num (removed in Python 3.14)"),
    ("self.assertEquals(a, b)", ".assertEquals() (removed in Python 3.12)"),
])
def test_each_kind_of_removed_use_is_found(source, expected):
    assert expected in removed_uses(source)


@pytest.mark.parametrize("source", [
    "import ast\nast.Constant(1)",
    "import re\nre.compile('x')",
    "ssl = object()\nssl.wrap_socket",   # not the module: nothing imported it
    "from cnnlib import template_matching",
    "import pipeline",
])
def test_what_is_still_there_is_not_flagged(source):
    assert removed_uses(source) == []


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _lower_bound(spec: SpecifierSet) -> tuple[int, ...]:
    bounds = [s.version for s in spec if s.operator == ">="]
    assert len(bounds) == 1, f"requires-python should have one '>=' bound: {spec}"
    return tuple(int(p) for p in bounds[0].split("."))


def _ci_pythons() -> list[tuple[int, ...]]:
    """The Pythons the workflows set up: ``python-version: "3.11"``, or one a line after
    ``python-version: |``."""
    found = []
    setting = re.compile(r"python-version:[ \t]*(?:\|[^\n]*\n((?:[ \t]+\S+[ \t]*\n)+)|(\S+))")
    for workflow in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for block, inline in setting.findall(workflow.read_text(encoding="utf-8")):
            found += re.findall(r"\d+\.\d+", block or inline)
    return [tuple(int(p) for p in v.split(".")) for v in found]


def test_ci_pythons_are_read_inline_and_from_a_block(monkeypatch, tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "a.yml").write_text('      with:\n          python-version: "3.11"\n')
    (workflows / "b.yml").write_text("      with:\n          python-version: |\n"
                                     "            3.13\n            3.12\n          cache: pip\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _ci_pythons() == [(3, 11), (3, 13), (3, 12)]


def test_requires_python_is_what_runs():
    spec = SpecifierSet(_project()["project"]["requires-python"])
    lowest = _lower_bound(spec)
    # the Python running this suite, CI's lowest Python and Colab's are all admitted ...
    assert spec.contains(".".join(map(str, sys.version_info[:3])))
    colab = re.search(r"^# Colab's Python: (\S+)", (ROOT / "colab" / "constraints.txt")
                      .read_text(encoding="utf-8"), re.MULTILINE).group(1)
    assert spec.contains(colab)
    # ... and the bound claims nothing older than CI runs
    assert _ci_pythons() and min(_ci_pythons()) == lowest[:2]
    # ruff checks the syntax of that same lowest Python
    target = _project()["tool"]["ruff"]["target-version"]
    assert target == "py" + "".join(map(str, lowest[:2]))
