"""``cnnlib-grade``: grade a folder of notebooks, make student notebooks, run on Gradescope.

::

    cnnlib-grade grade 02_conv1d submissions/ --out grades/ [--jobs 2] [--timeout 10]
                 [--memory-mb 2048] [--seed K]
    cnnlib-grade 02_conv1d submissions/ --out grades/          (the same; "grade" is implied)
    cnnlib-grade student [--check] [--exercises exercises]
    cnnlib-grade gradescope 02_conv1d [--root /autograder]
    cnnlib-grade list

``grade`` exits with 0 when the batch completed, however the students did; 2 on a usage
error (unknown exercise, missing folder); 1 when the sandbox itself cannot start, or when an
output file could not be written (every other file still is, and the failure is printed). It
prints how the sandboxes were isolated and which protections were missing on this machine.
The hidden checks' seed is drawn afresh for every run unless ``--seed`` (or
``CNNLIB_GRADE_SEED``) fixes it, e.g. to re-grade identically.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["grade_folder", "main"]

_COMMANDS = ("grade", "student", "gradescope", "list")


def _limits(args):
    from .sandbox import Limits

    return Limits(timeout=args.timeout, memory_mb=args.memory_mb,
                  submission_timeout=args.submission_timeout)


def _seed(value: int | None) -> int | None:
    if value is not None:
        return value
    env = os.environ.get("CNNLIB_GRADE_SEED")
    return int(env) if env else None


def grade_folder(exercise: str, submissions_dir, out_dir, *, jobs: int = 2, limits=None,
                 seed: int | None = None, progress: bool = True, isolation: str = "auto",
                 run: dict | None = None):
    """Grade every ``.ipynb`` under ``submissions_dir`` and write the reports to ``out_dir``.

    Every file is read into memory before the first submission runs. Returns the list of
    :class:`~cnnlib.grading.grader.SubmissionResult`. ``run``, when given, receives
    ``sandbox`` (how the sandboxes were isolated, what protection was missing) and
    ``write_failures`` (the output files that could not be written: the others were).
    """
    from .grader import find_submissions, grade_files
    from .notebook import MAX_BYTES
    from .question import load_exercise
    from .report import write_reports

    ex = load_exercise(exercise)
    files = []
    for student, path in find_submissions(submissions_dir):
        try:
            with path.open("rb") as f:  # read_notebook refuses anything longer than this
                data = f.read(MAX_BYTES + 1)
        except OSError as err:
            data = f"unreadable file: {err}".encode()
        files.append((student, str(path.relative_to(submissions_dir)), data))
    start = time.monotonic()
    info: dict = {}
    results = grade_files(ex, files, jobs=jobs, limits=limits, seed=seed, progress=progress,
                          isolation=isolation, info=info,
                          hide=(str(submissions_dir), str(out_dir)))
    failures: list = []
    write_reports(ex, results, out_dir, time.monotonic() - start,
                  {"jobs": jobs, "seed_fixed": seed is not None, "sandbox": info},
                  failures=failures)
    if run is not None:
        run.update(sandbox=info, write_failures=failures)
    return results


def _say_isolation(sandbox: dict) -> None:
    """Print on the terminal how the sandboxes were isolated and what was missing."""
    if not sandbox.get("mechanism"):
        return
    missing = sandbox.get("missing") or []
    print(f"sandboxes: {sandbox['mechanism']}" + (
        "" if missing else " (every protection held)"), file=sys.stderr)
    for line in missing:
        print(f"  missing: {line}", file=sys.stderr)
    for line in sandbox.get("why") or []:
        print(f"  because: {line.splitlines()[0][:300]}", file=sys.stderr)


def _cmd_grade(args) -> int:
    run: dict = {}
    results = grade_folder(args.exercise, args.submissions, args.out, jobs=args.jobs,
                           limits=_limits(args), seed=_seed(args.seed),
                           progress=not args.no_progress, isolation=args.isolation, run=run)
    _say_isolation(run.get("sandbox") or {})
    if not results:
        print(f"no .ipynb files under {args.submissions}", file=sys.stderr)
    else:
        mean = sum(r.total for r in results) / len(results)
        print(f"graded {len(results)} notebooks; mean {mean:.2f} / {results[0].possible:g}; "
              f"wrote {Path(args.out) / 'grades.csv'}")
    failures = run.get("write_failures") or []
    for line in failures:
        print(f"cnnlib-grade: {line}", file=sys.stderr)
    return 1 if failures else 0


def _cmd_gradescope(args) -> int:
    """Inside Gradescope's image: grade /autograder/submission, write results/results.json."""
    import json

    from .grader import find_submissions, grade_files
    from .notebook import MAX_BYTES
    from .question import load_exercise
    from .report import _atomic_write, gradescope_results

    ex = load_exercise(args.exercise)
    root = Path(args.root)
    found = find_submissions(root / "submission")
    out = root / "results" / "results.json"
    if not found:
        _atomic_write(out, json.dumps({"score": 0, "output": "No .ipynb file was submitted: "
                                       f"upload your {ex.name}.ipynb.", "tests": []}) + "\n")
        return 0
    # Several notebooks: prefer the one named like the exercise, else the first.
    student, path = next(((s, p) for s, p in found if p.stem == ex.name), found[0])
    with path.open("rb") as f:
        data = f.read(MAX_BYTES + 1)
    info: dict = {}
    result, = grade_files(ex, [(student, path.name, data)], jobs=1,
                          limits=_limits(args), seed=_seed(args.seed), progress=False,
                          isolation=args.isolation, info=info,
                          hide=(str(root / "submission"), str(root / "results")))
    _say_isolation(info)
    doc = gradescope_results(ex, result)
    if len(found) > 1:
        doc["output"] += f"\n(Graded {path.name}; other notebooks were ignored.)"
    try:
        _atomic_write(out, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    except OSError as err:
        print(f"cnnlib-grade: could not write {out}: {err.strerror or err}", file=sys.stderr)
        return 1
    print(f"{ex.name}: {result.total:g} / {result.possible:g}")
    return 0


def _cmd_student(args) -> int:
    from .authoring import generate_all

    changed = generate_all(args.exercises, check=args.check)
    if args.check:
        if changed:
            print("student notebooks out of date (run `cnnlib-grade student`):\n  "
                  + "\n  ".join(changed), file=sys.stderr)
            return 1
        print("student notebooks are up to date")
        return 0
    print("\n".join(f"wrote {p}" for p in changed) or "student notebooks were up to date")
    return 0


def _cmd_list(args) -> int:
    from .question import list_exercises, load_exercise

    for name in list_exercises():
        ex = load_exercise(name)
        print(f"{name}: {ex.title} — {len(ex.questions)} questions, {ex.points:g} points")
        for q in ex.questions:
            scratch = " (from scratch)" if q.from_scratch else ""
            print(f"    {q.name:<20} {q.points:>4g} pts  {q.n_checks:>3} checks{scratch}")
    return 0


def _add_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=10.0,
                   help="wall seconds for each cell and each question's checks (default 10)")
    p.add_argument("--memory-mb", type=int, default=2048,
                   help="memory a sandbox's processes may add to PyTorch's own (default 2048)")
    p.add_argument("--submission-timeout", type=float, default=None,
                   help="wall seconds for a whole submission (default max(120, 10×timeout))")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the hidden checks (default: a fresh secret each run)")
    p.add_argument("--isolation", choices=("auto", "none"), default="auto",
                   help="'auto' isolates each sandbox as far as this machine allows "
                        "(bubblewrap, namespaces); 'none' runs plain processes")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="cnnlib-grade", description="Grade a folder of exercise notebooks in sandboxes, "
        "make the student notebooks from their sources, or run as a Gradescope autograder.")
    sub = top.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade a folder of submitted notebooks")
    g.add_argument("exercise", help="exercise name, e.g. 02_conv1d")
    g.add_argument("submissions", help="folder of .ipynb files (any names, sub-folders ok)")
    g.add_argument("--out", required=True, help="folder for grades.csv and the reports")
    g.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_limits(g)
    g.set_defaults(run=_cmd_grade)
    s = sub.add_parser("student", help="generate the student notebooks from their sources")
    s.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if a committed student notebook differs")
    s.add_argument("--exercises", default="exercises", help="folder holding sources/")
    s.set_defaults(run=_cmd_student)
    gs = sub.add_parser("gradescope", help="grade inside Gradescope's /autograder layout")
    gs.add_argument("exercise")
    gs.add_argument("--root", default="/autograder")
    _add_limits(gs)
    gs.set_defaults(run=_cmd_gradescope)
    ls = sub.add_parser("list", help="list the exercises and their questions")
    ls.set_defaults(run=_cmd_list)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in _COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "grade")
    args = parser().parse_args(argv)
    from .sandbox import SandboxError

    try:
        return args.run(args)
    except SandboxError as err:  # the machinery failed, not a student
        print(f"cnnlib-grade: {err}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as err:
        print(f"cnnlib-grade: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
