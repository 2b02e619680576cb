"""The forbidden lists: all in cnnlib/grading/forbidden.py, and every name in them names
something (a misspelt entry forbids nothing, silently)."""

import importlib
import importlib.util
import warnings

import pytest

from cnnlib.grading import forbidden
from cnnlib.grading.exercises import __path__ as EXERCISES_PATH
from cnnlib.grading.question import FromScratch, list_exercises, load_exercise


def _lists() -> dict[str, FromScratch]:
    """Every list of forbidden.py, and every from-scratch question's list, by a label."""
    lists = {f"forbidden.{name}": value for name, value in vars(forbidden).items()
             if isinstance(value, FromScratch)}
    for name in list_exercises():
        for q in load_exercise(name).questions:
            if q.from_scratch is not None:
                lists[f"{name}/{q.name}"] = q.from_scratch
    return lists


def _installed(top: str) -> bool:
    return importlib.util.find_spec(top) is not None


def resolve(dotted: str):
    """The object a dotted name names: the longest importable module prefix, then attributes
    (raises ImportError or AttributeError when it names nothing)."""
    parts = dotted.split(".")
    with warnings.catch_warnings():  # numpy.core.* warns that it was renamed
        warnings.simplefilter("ignore")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ModuleNotFoundError as err:
                if err.name is not None and not dotted.startswith(err.name):
                    raise  # the module exists but one of its own imports is missing
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            return obj
    raise ImportError(f"no module of {dotted!r} can be imported")


NAMES = sorted({name for spec in _lists().values() for name in (*spec.apis, *spec.modules)})


@pytest.mark.parametrize("name", NAMES)
def test_every_forbidden_name_names_something(name):
    top = name.split(".")[0]
    if not _installed(top):
        pytest.skip(f"{top} is not installed here (an optional module)")
    resolve(name)


def test_only_optional_modules_are_skipped():
    absent = {name.split(".")[0] for name in NAMES if not _installed(name.split(".")[0])}
    assert absent <= {"scipy", "thop", "fvcore", "ptflops", "cffi"}, absent


def test_the_resolver_would_notice_a_misspelt_name():
    with pytest.raises(AttributeError):
        resolve("cnnlib.separable_conv2d")
    with pytest.raises(ImportError):
        resolve("no_such_package.conv")
    assert resolve("cnnlib.separable.separable_conv2d").__name__ == "separable_conv2d"
    assert resolve("torch.Tensor.unfold") is not None


def test_the_exercises_declare_no_forbidden_list_of_their_own():
    """Each exercise takes its lists from forbidden.py (and may join them with ``union``)."""
    import pathlib

    for path in sorted(pathlib.Path(EXERCISES_PATH[0]).glob("ex*.py")):
        text = path.read_text(encoding="utf-8")
        assert "FromScratch(" not in text, path.name
        assert "from .ex" not in text, path.name  # no list borrowed from another exercise
