"""From a source notebook (with solutions) to the student notebook (with stubs).

A source notebook ``exercises/sources/NN_slug.ipynb`` marks each solution in a code cell::

    def conv1d_valid(x, h):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        ...the solution...
        ### END SOLUTION

The student version ``exercises/NN_slug.ipynb`` is the same notebook with every such block
replaced by a stub at the block's indentation: inside a function,
``raise NotImplementedError(...)``; anywhere, the lines written as ``# STUB: <code>`` inside
the block (``# STUB: conv1d_params = None``), which a block outside a function must have.
Everything else is kept as it is; outputs and execution counts are cleared and the kernel is
``python3``. :func:`generate_all` writes (or, with ``check=True``, only compares) every student
notebook; ``cnnlib-grade student [--check]`` runs it.
"""

from __future__ import annotations

import ast
import copy
import json
from pathlib import Path

__all__ = ["BEGIN", "END", "AuthoringError", "generate_all", "student_notebook", "student_source"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "# STUB:"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class AuthoringError(ValueError):
    """A source notebook's solution markers are malformed."""


def _functions(source: str, where: str) -> list[tuple[int, int, str]]:
    """``(first line, last line, name)`` of every function in ``source`` (1-based)."""
    from .notebook import strip_magics

    try:
        tree = ast.parse(strip_magics(source) or "")
    except SyntaxError as err:
        raise AuthoringError(f"{where}: the source does not parse ({err})") from err
    return [(node.lineno, node.end_lineno or node.lineno, node.name) for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _enclosing_function(functions: list[tuple[int, int, str]], line: int) -> str | None:
    inside = [(first, name) for first, last, name in functions if first < line <= last]
    return max(inside)[1] if inside else None


def student_source(source: str, where: str = "cell") -> str:
    """``source`` with each solution block replaced by its stub."""
    lines = source.split("\n")
    functions = _functions(source, where) if BEGIN in source else []
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == END:
            raise AuthoringError(f"{where}, line {i + 1}: {END} without {BEGIN}")
        if line.strip() != BEGIN:
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        try:
            stop = next(j for j in range(i + 1, len(lines)) if lines[j].strip() in (BEGIN, END))
        except StopIteration:
            raise AuthoringError(f"{where}, line {i + 1}: {BEGIN} without {END}") from None
        if lines[stop].strip() == BEGIN:
            raise AuthoringError(f"{where}, line {stop + 1}: solution blocks cannot nest")
        block = lines[i + 1: stop]
        stubs = [b.strip()[len(STUB):].strip() for b in block if b.strip().startswith(STUB)]
        if stubs:
            out.extend(f"{indent}{s}  # YOUR CODE HERE" for s in stubs)
        else:
            name = _enclosing_function(functions, i + 1)
            if name is None:
                raise AuthoringError(f"{where}, line {i + 1}: a solution block outside a "
                                     f"function needs a '{STUB} <code>' line")
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f'{indent}raise NotImplementedError("write {name}, then run its check")')
        i = stop + 1
    return "\n".join(out)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def student_notebook(source_nb: dict, name: str = "notebook") -> dict:
    """The student version of a source notebook (a new dict)."""
    nb = copy.deepcopy(source_nb)
    nb.setdefault("metadata", {})["kernelspec"] = dict(KERNELSPEC)
    for n, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        text = "".join(cell.get("source", []))
        cell["source"] = _lines(student_source(text, f"{name}, cell {n}"))
        cell["outputs"] = []
        cell["execution_count"] = None
    return nb


def dumps(nb: dict) -> str:
    """Jupyter's own on-disk format (1-space indent, sorted keys, trailing newline)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generate_all(exercises_dir: str | Path = "exercises", check: bool = False) -> list[str]:
    """Write ``exercises/NN.ipynb`` for every ``exercises/sources/NN.ipynb``.

    With ``check=True`` nothing is written; the return value lists the student notebooks that
    are missing or differ from what their sources generate (empty when all are up to date).
    Without it, the list names the notebooks written.
    """
    root = Path(exercises_dir)
    sources = sorted((root / "sources").glob("*.ipynb"))
    if not sources:
        raise AuthoringError(f"no source notebooks in {root / 'sources'}")
    changed = []
    for src in sources:
        text = dumps(student_notebook(json.loads(src.read_text(encoding="utf-8")), src.name))
        target = root / src.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            changed.append(str(target))
            if not check:
                target.write_text(text, encoding="utf-8")
    return changed
