"""cnnlib's layers, read from its source: only cnnlib.viz draws, and nothing else loads pyplot.

Every module's imports are read with ``ast`` (imports inside functions included), so a
drawing import slipped into an operation, the training loop or the grader fails here before
it slows down a grading sandbox or a training run.
"""

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "cnnlib"
DRAWING = ("matplotlib.pyplot", "ipywidgets", "cnnlib.viz")
"""What only ``cnnlib.viz`` may import. (``matplotlib`` itself is fine elsewhere: the photo
and the signals are read from its sample data, and the set-up check reports its version.)"""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, anywhere in it, as absolute dotted names: ``from .x
    import y`` in ``cnnlib.a`` gives ``cnnlib.x`` and ``cnnlib.x.y``, ``from matplotlib
    import pyplot`` gives ``matplotlib`` and ``matplotlib.pyplot``."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def drawing_imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """The imports of ``source`` that belong to the drawing layer."""
    return sorted(name for name in imported_modules(source, module, is_package)
                  if any(name == d or name.startswith(d + ".") for d in DRAWING))


MODULES = sorted(PACKAGE.rglob("*.py"))
OUTSIDE_VIZ = [p for p in MODULES if "viz" not in p.relative_to(PACKAGE).parts]


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", OUTSIDE_VIZ, ids=ids(OUTSIDE_VIZ))
def test_only_viz_draws(path):
    found = drawing_imports(path.read_text(), module_name(path), path.name == "__init__.py")
    assert not found, f"{module_name(path)} imports {found}: drawing code belongs in cnnlib.viz"


def test_the_check_sees_every_form_of_import():
    seen = [
        drawing_imports("import matplotlib.pyplot as plt", "cnnlib.conv"),
        drawing_imports("def f():\n    from matplotlib import pyplot\n", "cnnlib.conv"),
        drawing_imports("import ipywidgets as w", "cnnlib.training"),
        drawing_imports("from .viz import show_images", "cnnlib.training"),
        drawing_imports("from . import viz", "cnnlib", is_package=True),
        drawing_imports("from ..viz.images import show_matrix", "cnnlib.grading.checker"),
        drawing_imports("from cnnlib.viz import images", "cnnlib.grading.exercises.ex01"),
    ]
    assert all(seen), seen
    assert not drawing_imports("import matplotlib\nfrom .conv import conv2d", "cnnlib.datasets")
    assert not drawing_imports("from .images import to_numpy_image", "cnnlib.training")


def test_the_grader_never_imports_the_drawing_layer():
    grading = sorted((PACKAGE / "grading").rglob("*.py"))
    assert grading
    offenders = {module_name(p): found for p in grading
                 if (found := drawing_imports(p.read_text(), module_name(p),
                                              p.name == "__init__.py"))}
    assert not offenders


def test_import_cnnlib_loads_neither_pyplot_nor_ipywidgets():
    code = ("import sys, cnnlib, cnnlib.grading, cnnlib.training\n"
            "print([m for m in ('matplotlib.pyplot', 'ipywidgets') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip()
    assert out == "[]"


def test_drawing_names_stay_on_the_top_level():
    code = ("import sys, cnnlib\n"
            "assert callable(cnnlib.show_images) and callable(cnnlib.show_matrix)\n"
            "assert 'matplotlib.pyplot' in sys.modules\n"
            "assert 'show_images' in dir(cnnlib)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def forbidden_cnnlib_names() -> list[str]:
    files = [PACKAGE / "grading" / "forbidden.py",
             *sorted((PACKAGE / "grading" / "exercises").glob("*.py"))]
    names = set()
    for path in files:
        names.update(re.findall(r"[\"'](cnnlib(?:\.\w+)+)[\"']", path.read_text()))
    return sorted(names)


def test_every_cnnlib_name_the_grader_forbids_resolves():
    names = forbidden_cnnlib_names()
    assert "cnnlib.conv" in names and "cnnlib.pooling" in names
    missing = [name for name in names if not _resolves(name)]
    assert not missing, f"the grader forbids names that do not exist: {missing}"
