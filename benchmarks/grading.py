"""How long does the grader take on a class? Grades N generated submissions of an exercise.

    python benchmarks/grading.py [--n 100] [--jobs 2] [--timeout 3] [--keep DIR]
    python benchmarks/grading.py --exercise all [--n 20]

For exercise 02 (the default) the submissions are the exercise's own notebooks with a last cell
that changes some answers, in a fixed mix: correct, wrong in one way or another, unanswered
(the student version), partly answered, using a forbidden API, and a few that hang (each hang
costs one timeout). For the other exercises (``--exercise 05_variants``, or ``all``) they are
its solution and student notebooks, half each. An exercise with a training question
(exercise 07) is measured too, but its target is that question's own time limit, not 2 s.
Prints the wall time, the time per notebook and how the statuses came out. Every notebook
is run once with its cells and once more per from-scratch answer (each answer in a sandbox of
its own). The target is at most 2 s per notebook on 2 cores; the last line says whether it
was met, and how the sandboxes were isolated (bubblewrap, namespaces or plain processes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "sources" / "02_conv1d.ipynb"
STUDENT = ROOT / "exercises" / "02_conv1d.ipynb"

WRONG = {
    "flipped": "def conv1d_valid(x, h):\n    m = len(h)\n    h = torch.flip(h, dims=[0])\n"
               "    return torch.stack([(h * x[i:i + m]).sum() for i in range(len(x) - m + 1)])",
    "off_by_one": "def output_length(n, m, p, s):\n    return (n + p - m) // s + 1",
    "no_padding": "_g = conv1d_general\n\ndef conv1d_general(x, h, stride=1, padding=0):\n"
                  "    return _g(x, h, stride, 0)",
    "float_count": "conv1d_params = 8 * 3 * 5 + 8.0",
}
FORBIDDEN = ("import torch.nn.functional as F\n\ndef conv1d_valid(x, h):\n"
             "    return F.conv1d(x.view(1, 1, -1), h.view(1, 1, -1))[0, 0]")
HANG = "def conv1d_general(x, h, stride=1, padding=0):\n    while True:\n        pass"
PARTIAL = ("def conv1d_valid(x, h):\n    m = len(h)\n"
           "    return torch.stack([(h * x[i:i + m]).sum() for i in range(len(x) - m + 1)])\n\n"
           "def output_length(n, m, p, s):\n    return (n + 2 * p - m) // s + 1")


def _with_cell(path: Path, code: str | None) -> str:
    nb = json.loads(path.read_text())
    if code is not None:
        nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                            "execution_count": None, "source": code.splitlines(True)})
    return json.dumps(nb)


def make_mix(folder: Path, exercise: str, n: int) -> Counter:
    """Write ``n`` notebooks of ``exercise`` into ``folder``, solutions and student versions
    alternately; return how many of each kind."""
    source = ROOT / "exercises" / "sources" / f"{exercise}.ipynb"
    student = ROOT / "exercises" / f"{exercise}.ipynb"
    kinds: Counter = Counter()
    for i in range(n):
        kind, path = ("correct", source) if i % 2 == 0 else ("missing", student)
        kinds[kind] += 1
        (folder / f"student_{i:03d}.ipynb").write_text(_with_cell(path, None))
    return kinds


def make_submissions(folder: Path, n: int) -> Counter:
    """Write ``n`` notebooks of exercise 02 into ``folder``; return how many of each kind."""
    plan = (["correct"] * 40 + [f"wrong:{k}" for k in WRONG] * 6 + ["missing"] * 15
            + ["partial"] * 6 + ["forbidden"] * 10 + ["hang"] * 5)
    kinds: Counter = Counter()
    for i in range(n):
        kind = plan[(i * 37) % len(plan)]  # a fixed shuffle of the mix
        kinds[kind.split(":")[0]] += 1
        if kind == "correct":
            text = _with_cell(SOURCE, None)
        elif kind.startswith("wrong:"):
            text = _with_cell(SOURCE, WRONG[kind.split(":")[1]])
        elif kind == "missing":
            text = _with_cell(STUDENT, None)
        elif kind == "partial":
            text = _with_cell(STUDENT, PARTIAL)
        elif kind == "forbidden":
            text = _with_cell(SOURCE, FORBIDDEN)
        else:
            text = _with_cell(SOURCE, HANG)
        (folder / f"student_{i:03d}.ipynb").write_text(text)
    return kinds


TARGET_SECONDS = 2.0


def summary_mechanism(out: Path) -> str:
    """How the run's sandboxes were isolated, as its summary.json says."""
    try:
        return json.loads((out / "summary.json").read_text())["sandbox"]["mechanism"]
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown"


def has_training(exercise: str) -> bool:
    """Whether the exercise has a question that trains a network (its own time limit)."""
    from cnnlib.grading import load_exercise

    return any(q.open_ended for q in load_exercise(exercise).questions)


def bench(exercise: str, n: int, jobs: int, timeout: float, keep: str | None) -> bool:
    """Grade ``n`` notebooks of ``exercise``, print the times; whether the target was met."""
    from cnnlib.grading.cli import grade_folder
    from cnnlib.grading.sandbox import Limits

    work = Path(keep) / exercise if keep else Path(tempfile.mkdtemp(prefix="grading-bench-"))
    subs, out = work / "submissions", work / "reports"
    shutil.rmtree(subs, ignore_errors=True)
    subs.mkdir(parents=True)
    kinds = (make_submissions(subs, n) if exercise == "02_conv1d"
             else make_mix(subs, exercise, n))
    start = time.perf_counter()
    results = grade_folder(exercise, subs, out, jobs=jobs, limits=Limits(timeout=timeout),
                           progress=sys.stderr.isatty())
    wall = time.perf_counter() - start
    statuses = Counter(q.status for r in results for q in r.questions.values())
    mean = sum(r.total for r in results) / len(results)
    print(f"graded {len(results)} notebooks of {exercise} in {wall:.1f} s wall "
          f"({wall / len(results):.2f} s per notebook, {jobs} jobs, "
          f"{os.cpu_count()} CPUs, timeout {timeout:g} s)")
    print("submissions: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print("question statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(f"mean score {mean:.2f} / {results[0].possible:g}; reports in {out}"
          if keep else f"mean score {mean:.2f} / {results[0].possible:g}")
    per = wall / len(results)
    training = has_training(exercise)
    met = training or per <= TARGET_SECONDS
    target = ("a training question: its own limit applies" if training
              else f"target <= {TARGET_SECONDS:g} s")
    print(f"SUMMARY {exercise}: {per:.2f} s per notebook ({target}) "
          f"{'PASS' if met else 'FAIL'}; sandboxes: {summary_mechanism(out)}")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="number of notebooks (default 100)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks graded at once")
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="seconds per cell and per question (default 3)")
    parser.add_argument("--exercise", default="02_conv1d",
                        help="an exercise name, or 'all' (default 02_conv1d)")
    parser.add_argument("--keep", default=None, help="keep submissions and reports here")
    args = parser.parse_args(argv)
    from cnnlib.grading import list_exercises

    names = list_exercises() if args.exercise == "all" else [args.exercise]
    met = [bench(name, args.n, args.jobs, args.timeout, args.keep) for name in names]
    if len(names) > 1:
        print(f"SUMMARY: {sum(met)} of {len(met)} exercises within their targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
