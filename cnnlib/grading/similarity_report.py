"""``cnnlib-grade similarity``: the most similar pairs of answers, as a CSV and a web page.

Writes into the output folder:

==================  =====================================================================
``similarity.csv``  one row per pair: question, student_a, student_b, score, flagged,
                    tokens_a, tokens_b; the ``top`` pairs of each question, most similar
                    first (all questions together)
``similarity.html`` one self-contained page (no script, no external file): per question,
                    how many answers were compared and pairs flagged, then the top pairs
                    with the two answers side by side, the lines they share marked
==================  =====================================================================

How answers are compared, and what the score and *flagged* mean:
:mod:`cnnlib.grading.similarity`. The student notebook (``exercises/NN_slug.ipynb``) is the
template taken out of every answer; the exercise's solution (``exercises/sources/``) takes
part as one more notebook, named ``(solution)``, since anyone can read it.
"""

from __future__ import annotations

import csv
import html
import io
import keyword
import tokenize
from pathlib import Path

from .question import load_exercise
from .report import _atomic_write
from .similarity import (
    MIN_TOKENS,
    THRESHOLD,
    SimilarityResult,
    Template,
    compare_folder,
)

__all__ = ["similarity_csv", "similarity_html", "similarity_report"]


def similarity_csv(result: SimilarityResult, order: list[str]) -> str:
    """The CSV text: the top pairs of every question, most similar first."""
    rows = [p for q in order for p in result.pairs[q]]
    rows.sort(key=lambda p: (-p.score, order.index(p.question), p.a, p.b))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["question", "student_a", "student_b", "score", "flagged", "tokens_a",
                     "tokens_b"])
    for p in rows:
        writer.writerow([p.question, p.a, p.b, f"{p.score:.3f}", "yes" if p.flagged else "no",
                         *p.tokens])
    return out.getvalue()


def _line_shapes(code: str) -> list[str | None]:
    """Per line of ``code``, its shape: names as ``v``, literals as ``c``, no comments or
    spaces (None for a line with no code, or when the code cannot be tokenised)."""
    lines = code.splitlines()
    shapes: list[list[str]] = [[] for _ in lines]
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            row = tok.start[0] - 1
            if not 0 <= row < len(lines):
                continue
            if tok.type == tokenize.NAME:
                shapes[row].append(tok.string if keyword.iskeyword(tok.string) else "v")
            elif tok.type in (tokenize.NUMBER, tokenize.STRING):
                shapes[row].append("c")
            elif tok.type == tokenize.OP:
                shapes[row].append(tok.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return [None] * len(lines)
    return [" ".join(s) if len(s) > 2 else None for s in shapes]


def _code_block(code: str, other: str) -> str:
    """``code`` as escaped HTML lines, those whose shape also occurs in ``other`` marked."""
    theirs = {s for s in _line_shapes(other) if s}
    out = []
    for line, shape in zip(code.splitlines(), _line_shapes(code), strict=True):
        css = ' class="same"' if shape and shape in theirs else ""
        out.append(f"<span{css}>{html.escape(line) or ' '}</span>")
    return "<pre>" + "".join(out) + "</pre>"  # each line a block of its own


_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1400px;
       padding: 0 1rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
details { border: 1px solid #ccc; border-radius: 6px; margin: .6rem 0; padding: .3rem .6rem; }
details.flagged { border-color: #b3261e; }
summary { cursor: pointer; font-weight: 600; }
.flag { color: #b3261e; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: .8rem; }
.pair h3 { font-size: .95rem; margin: .4rem 0; overflow-wrap: anywhere; }
pre { background: #f6f6f6; padding: .5rem; overflow-x: auto; font-size: 13px;
      margin: 0; }
pre span { display: block; }
pre span.same { background: #ffe3a3; }
table { border-collapse: collapse; } td, th { padding: .2rem .6rem; text-align: left; }
@media (prefers-color-scheme: dark) {
  body { background: #121212; color: #e6e6e6; } pre { background: #1e1e1e; }
  pre span.same { background: #5a4300; } details { border-color: #555; }
}
"""


def _pair_html(result: SimilarityResult, pair) -> str:
    a = result.answers[pair.question][pair.a]
    b = result.answers[pair.question][pair.b]
    flag = ' <span class="flag">flagged</span>' if pair.flagged else ""
    opened = " open" if pair.flagged else ""
    return (f'<details class="{"flagged" if pair.flagged else "pair-row"}"{opened}><summary>'
            f"{pair.score:.2f} — {html.escape(pair.a)} and {html.escape(pair.b)}{flag}"
            f'</summary><div class="pair">'
            f"<div><h3>{html.escape(pair.a)} ({pair.tokens[0]} tokens)</h3>"
            f"{_code_block(a.code, b.code)}</div>"
            f"<div><h3>{html.escape(pair.b)} ({pair.tokens[1]} tokens)</h3>"
            f"{_code_block(b.code, a.code)}</div></div></details>")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def similarity_html(result: SimilarityResult, order: list[str], title: str) -> str:
    """The self-contained page (see the module docstring)."""
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Similar answers — {html.escape(result.exercise)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Similar answers — {html.escape(result.exercise)}: {html.escape(title)}</h1>",
        f"<p>{len(result.students)} notebooks compared, question by question, once the code "
        "of the student notebook is taken out. The score (0 to 1) is the share of runs of "
        "five syntax tokens two answers have in common; names, literals, comments and layout "
        f"do not count. A pair is <strong>flagged</strong> from {THRESHOLD:g} when both "
        f"answers have at least {MIN_TOKENS} tokens. Lines of the same shape in both answers "
        "are marked. A high score is a reason to read the two answers, not a verdict.</p>",
    ]
    if result.skipped:
        parts.append("<h2>Not compared</h2><ul>" + "".join(
            f"<li>{html.escape(s.file)}: {html.escape(s.reason)}</li>"
            for s in result.skipped) + "</ul>")
    for q in order:
        pairs = result.pairs[q]
        n = len(result.answers[q])
        parts.append(f'<h2 id="{html.escape(q)}">{html.escape(q)}</h2><p>{_count(n, "answer")}; '
                     f"{_count(result.flagged[q], 'pair')} flagged"
                     + (f"; the {len(pairs)} most similar pairs:" if pairs else ".") + "</p>")
        parts.extend(_pair_html(result, p) for p in pairs)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _template_paths(exercise: str, exercises_dir) -> tuple[Path, Path]:
    root = Path(exercises_dir)
    student = root / f"{exercise}.ipynb"
    if not student.is_file():
        raise ValueError(f"the exercise's student notebook {student} is missing: it is the "
                         "template taken out of every answer. Run this in the course's "
                         "folder, or pass --exercises DIR (the folder that holds "
                         f"{exercise}.ipynb)")
    return student, root / "sources" / f"{exercise}.ipynb"


def similarity_report(exercise: str, submissions, out_dir, *, exercises_dir="exercises",
                      top: int = 10, with_solution: bool = True,
                      failures: list | None = None) -> SimilarityResult:
    """Compare the notebooks under ``submissions`` and write ``similarity.csv`` and
    ``similarity.html`` into ``out_dir``. Raises ValueError for an unknown exercise, a missing
    folder or template; a file that cannot be written is added to ``failures``."""
    ex = load_exercise(exercise)
    student, source = _template_paths(ex.name, exercises_dir)
    result = compare_folder(ex, submissions, Template.from_notebook(student),
                            solution=source if with_solution and source.is_file() else None,
                            top=top)
    order = [q.name for q in ex.questions]
    out = Path(out_dir)
    for name, text in (("similarity.csv", similarity_csv(result, order)),
                       ("similarity.html", similarity_html(result, order, ex.title))):
        try:
            _atomic_write(out / name, text)
        except OSError as err:
            if failures is None:
                raise
            failures.append(f"could not write {out / name}: {err.strerror or err}")
    return result

