"""``cnnlib-grade``: grade a folder of notebooks, make student notebooks, run on Gradescope.

::

    cnnlib-grade grade 02_conv1d submissions/ --out grades/ [--jobs 2] [--timeout 10]
                 [--memory-mb 2048] [--seed K]
    cnnlib-grade 02_conv1d submissions/ --out grades/          (the same; "grade" is implied)
    cnnlib-grade student [--check] [--exercises exercises]
    cnnlib-grade gradescope 02_conv1d [--root /autograder]
    cnnlib-grade similarity 02_conv1d submissions/ [--out DIR] [--top 10] [--exercises DIR]
    cnnlib-grade release 02_conv1d --out DIR [--install wheel|git] [--url URL]
    cnnlib-grade list

``grade`` exits with 0 when the batch completed, however the students did; 2 on a usage
error (unknown exercise, missing folder); 1 when the sandbox itself cannot start, or when an
output file could not be written (every other file still is, and the failure is printed). It
prints how the sandboxes were isolated and which protections were missing on this machine.
The hidden checks' seed is drawn afresh for every run unless ``--seed`` (or
``CNNLIB_GRADE_SEED``) fixes it; either way every report states it, with the cnnlib version
and the command that grades the folder again identically (:mod:`cnnlib.grading.report`).

``similarity`` (:mod:`cnnlib.grading.similarity_report`) and ``release``
(:mod:`cnnlib.grading.release`) exit with 0 when they wrote their files, 2 on a usage error
(unknown exercise, missing folder or notebook) and 1 when a file could not be written;
``similarity`` names on stderr each file it could not compare (not a notebook) and goes on.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
import time
from pathlib import Path

__all__ = ["grade_folder", "main", "reproduce_command"]

_COMMANDS = ("grade", "student", "gradescope", "similarity", "release", "list")


def _limits(args):
    from .sandbox import Limits

    return Limits(timeout=args.timeout, memory_mb=args.memory_mb,
                  submission_timeout=args.submission_timeout)


def _seed(value: int | None) -> int | None:
    if value is not None:
        return value
    env = os.environ.get("CNNLIB_GRADE_SEED")
    return int(env) if env else None


def reproduce_command(command: str, exercise: str, paths: list[str], seed: int, limits,
                      isolation: str) -> str:
    """The ``cnnlib-grade`` command line that grades again with the same hidden checks:
    ``paths`` as given, the seed and every limit written out."""
    from .sandbox import Limits

    limits = limits or Limits()
    parts = ["cnnlib-grade", command, exercise, *paths, "--seed", str(seed),
             "--timeout", f"{limits.timeout:g}", "--memory-mb", str(limits.memory_mb)]
    if limits.submission_timeout is not None:
        parts += ["--submission-timeout", f"{limits.submission_timeout:g}"]
    if isolation != "auto":
        parts += ["--isolation", isolation]
    return shlex.join(parts)


def grade_folder(exercise: str, submissions_dir, out_dir, *, jobs: int = 2, limits=None,
                 seed: int | None = None, progress: bool = True, isolation: str = "auto",
                 run: dict | None = None):
    """Grade every ``.ipynb`` under ``submissions_dir`` and write the reports to ``out_dir``.

    Every file is read into memory before the first submission runs. Returns the list of
    :class:`~cnnlib.grading.grader.SubmissionResult`. ``run``, when given, receives
    ``sandbox`` (how the sandboxes were isolated, what protection was missing) and
    ``write_failures`` (the output files that could not be written: the others were). The
    seed, drawn here when ``seed`` is None, is written into every report with the command
    that reproduces the run (:func:`reproduce_command`).
    """
    from .grader import find_submissions, grade_files
    from .notebook import MAX_BYTES
    from .question import load_exercise
    from .report import cnnlib_version, write_reports

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
    fixed, seed = seed is not None, secrets.randbits(63) if seed is None else seed
    results = grade_files(ex, files, jobs=jobs, limits=limits, seed=seed, progress=progress,
                          isolation=isolation, info=info,
                          hide=(str(submissions_dir), str(out_dir)))
    failures: list = []
    command = reproduce_command("grade", ex.name, [str(submissions_dir), "--out", str(out_dir)],
                                seed, limits, isolation)
    write_reports(ex, results, out_dir, time.monotonic() - start,
                  {"jobs": jobs, "seed_fixed": fixed, "sandbox": info}, failures=failures,
                  reproduce={"seed": seed, "cnnlib": cnnlib_version(), "command": command})
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
    seed = _seed(args.seed)
    seed = secrets.randbits(63) if seed is None else seed
    result, = grade_files(ex, [(student, path.name, data)], jobs=1,
                          limits=_limits(args), seed=seed, progress=False,
                          isolation=args.isolation, info=info,
                          hide=(str(root / "submission"), str(root / "results")))
    _say_isolation(info)
    # stdout is for the instructor (results.json hides it from students), the seed with it
    print("reproduce with: " + reproduce_command("gradescope", ex.name, ["--root", str(root)],
                                                 seed, _limits(args), args.isolation))
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


def _cmd_similarity(args) -> int:
    from .similarity_report import similarity_report

    failures: list = []
    result = similarity_report(args.exercise, args.submissions, args.out,
                               exercises_dir=args.exercises, top=args.top,
                               with_solution=not args.no_solution, failures=failures)
    for s in result.skipped:
        print(f"cnnlib-grade: not compared: {s.file}: {s.reason}", file=sys.stderr)
    flagged = sum(result.flagged.values())
    print(f"compared {len(result.students)} notebooks; {flagged} pairs flagged; wrote "
          f"{Path(args.out) / 'similarity.csv'} and {Path(args.out) / 'similarity.html'}")
    for line in failures:
        print(f"cnnlib-grade: {line}", file=sys.stderr)
    return 1 if failures else 0


def _cmd_release(args) -> int:
    from .release import release

    try:
        written = release(args.exercise, args.out, exercises_dir=args.exercises,
                          install=args.install, url=args.url, config=args.config)
    except (RuntimeError, OSError) as err:  # the wheel's build, a file that cannot be written
        print(f"cnnlib-grade: {err}", file=sys.stderr)
        return 1
    print("\n".join(f"wrote {p}" for p in written))
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
        "make the student notebooks from their sources, run as a Gradescope autograder, "
        "compare answers for similarity, or release an assignment.")
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
    sim = sub.add_parser("similarity", help="the most similar answers per question, side by "
                         "side (similarity.csv, similarity.html)")
    sim.add_argument("exercise", help="exercise name, e.g. 02_conv1d")
    sim.add_argument("submissions", help="folder of .ipynb files (any names, sub-folders ok)")
    sim.add_argument("--out", default="similarity", help="output folder (default similarity)")
    sim.add_argument("--top", type=int, default=10,
                     help="pairs kept per question, most similar first (default 10)")
    sim.add_argument("--exercises", default="exercises",
                     help="folder holding the student notebook (the template taken out of "
                          "every answer) and sources/ (default exercises)")
    sim.add_argument("--no-solution", action="store_true",
                     help="leave the exercise's solution notebook out of the comparison")
    sim.set_defaults(run=_cmd_similarity)
    rel = sub.add_parser("release", help="an assignment folder: the student notebook, a "
                         "README and a Gradescope autograder zip")
    rel.add_argument("exercise", help="exercise name or number, e.g. 02_conv1d or 02")
    rel.add_argument("--out", required=True, help="folder to write the assignment into")
    rel.add_argument("--exercises", default="exercises",
                     help="folder holding sources/ (default exercises)")
    rel.add_argument("--install", choices=("wheel", "git"), default="wheel",
                     help="how the autograder installs cnnlib: 'wheel' bundles this cnnlib "
                          "in the zip (default), 'git' installs it from the repository URL")
    rel.add_argument("--url", default=None,
                     help="the course repository (default: repository.url in _config.yml)")
    rel.add_argument("--config", default="_config.yml",
                     help="the book's _config.yml, where the URL is read (default _config.yml)")
    rel.set_defaults(run=_cmd_release)
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
