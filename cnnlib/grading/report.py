"""What the grader writes: ``grades.csv``, one JSON report per submission, Gradescope files.

Layout of ``--out DIR``::

    grades.csv                          a row per student, a column per question, the total,
                                        the statuses that are not ok; first row: points possible
    reports/<student>.json              every question's status, score, feedback and per-check
                                        results (hidden checks without their values), notes on
                                        cells that failed, the captured output (capped)
    gradescope/<student>/results.json   the same verdicts in Gradescope's results.json format
    summary.json                        the run: exercise, points, counts per status, and
                                        the timings (the only file that has any)

Regrading is reproducible: every report (``reports/<student>.json`` and ``summary.json``) has a
``reproduce`` entry with the hidden checks' seed, the cnnlib version and the exact command
that grades the folder again; run with that seed, the same version (on a machine whose
sandboxes are isolated the same way) gives byte-identical ``grades.csv``,
``reports/<student>.json`` and ``results.json`` files. Timings are kept out of all of them
and written to ``summary.json`` alone (``seconds``, ``seconds_per_submission``). The seed is
not written into ``results.json``, the file students see on Gradescope: with it and their id,
a student could compute the hidden inputs of a regrade.

Every file is written to a temporary name and renamed, after all grading is done, so nothing a
submission writes while it runs can stand in for them. A file that cannot be written (the
folder is read-only, something else already has its name) does not stop the others: the
failure is recorded, ``grades.csv`` and ``summary.json`` are written under another name
(``grades.<time>.csv``), and :func:`write_reports` returns every failure.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from .grader import STATUSES, SubmissionResult
from .question import Exercise

__all__ = ["POINTS_ROW", "cnnlib_version", "gradescope_results", "write_reports"]

POINTS_ROW = "POINTS POSSIBLE"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write(path: Path, text: str, failures: list, fallback: bool = False) -> None:
    """Write ``path``; on failure, note it (and with ``fallback`` try a dated name beside it)."""
    try:
        _atomic_write(path, text)
        return
    except OSError as err:
        failures.append(f"could not write {path}: {err.strerror or err}")
    if fallback:
        other = path.with_name(f"{path.stem}.{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
        try:
            _atomic_write(other, text)
            failures.append(f"wrote {other} instead of {path}")
        except OSError as err:
            failures.append(f"could not write {other} either: {err.strerror or err}")


def cnnlib_version() -> str:
    """The version of the cnnlib that grades (``cnnlib.__version__``)."""
    from cnnlib import __version__

    return __version__


def _num(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.4f}".rstrip("0")


def grades_csv(exercise: Exercise, results: list[SubmissionResult]) -> str:
    names = [q.name for q in exercise.questions]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "file", *names, "total", "problems"])
    writer.writerow([POINTS_ROW, "", *(_num(q.points) for q in exercise.questions),
                     _num(exercise.points), ""])
    for r in sorted(results, key=lambda r: r.student):
        problems = "; ".join(f"{n}: {r.questions[n].status}" for n in names
                             if r.questions[n].status != "ok")
        writer.writerow([r.student, r.file, *(_num(r.questions[n].score) for n in names),
                         _num(r.total), problems])
    return out.getvalue()


def gradescope_results(exercise: Exercise, result: SubmissionResult) -> dict:
    """A Gradescope ``results.json`` document: one test per question, all visible."""
    tests = []
    for i, q in enumerate(exercise.questions, start=1):
        qr = result.questions[q.name]
        scratch = " (from scratch)" if qr.from_scratch else ""
        tests.append({
            "name": f"{q.name}{scratch}",
            "number": str(i),
            "score": qr.score,
            "max_score": qr.points,
            "status": "passed" if qr.status == "ok" else "failed",
            "output": f"[{qr.status}] {qr.feedback}",
            "visibility": "visible",
        })
    notes = "\n".join(f"- {n}" for n in result.notes)
    summary = f"{exercise.name} — {exercise.title}: {_num(result.total)} / " \
              f"{_num(result.possible)} points."
    return {
        "score": result.total,
        "output": summary + (f"\nNotes on your notebook:\n{notes}" if notes else ""),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"statuses": {k: v.status for k, v in result.questions.items()},
                       "cnnlib": cnnlib_version()},
    }


def write_reports(exercise: Exercise, results: list[SubmissionResult], out_dir,
                  seconds: float = 0.0, extra: dict | None = None,
                  failures: list | None = None, reproduce: dict | None = None) -> Path:
    """Write every output file into ``out_dir`` (created if needed); return its path.

    A file that cannot be written is skipped and described in ``failures`` (a list, when
    given) and in ``summary.json``; the others are still written. Each report also says how
    the sandboxes were isolated (``extra["sandbox"]``, when given) and, when given,
    ``reproduce`` (``seed``, ``cnnlib``, ``command``: see the module docstring). Timings go to
    ``summary.json`` only.
    """
    failures = [] if failures is None else failures
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        failures.append(f"could not create the output folder {out}: {err.strerror or err}")
    _write(out / "grades.csv", grades_csv(exercise, results), failures, fallback=True)
    sandbox = (extra or {}).get("sandbox")
    for r in results:
        doc = r.as_dict()
        doc.pop("seconds", None)  # timings: summary.json only
        if reproduce is not None:
            doc["reproduce"] = reproduce
        if isinstance(sandbox, dict) and "sandbox" not in doc:
            doc["sandbox"] = {"mechanism": sandbox.get("mechanism"),
                              "missing": sandbox.get("missing", [])}
        _write(out / "reports" / f"{r.student}.json",
               json.dumps(doc, indent=1, ensure_ascii=False) + "\n", failures)
        _write(out / "gradescope" / r.student / "results.json",
               json.dumps(gradescope_results(exercise, r), indent=1, ensure_ascii=False) + "\n",
               failures)
    counts = Counter(q.status for r in results for q in r.questions.values())
    summary = {
        "exercise": exercise.name, "title": exercise.title, "submissions": len(results),
        "points_possible": exercise.points,
        "questions": {q.name: q.points for q in exercise.questions},
        "statuses": {s: counts.get(s, 0) for s in STATUSES},
        "mean_score": round(sum(r.total for r in results) / len(results), 4) if results else 0,
        "seconds": round(seconds, 1),
        "seconds_per_submission": {r.student: round(r.seconds, 2)
                                   for r in sorted(results, key=lambda r: r.student)},
        **(extra or {}),
    }
    if reproduce is not None:
        summary["reproduce"] = reproduce
    summary["write_failures"] = list(failures)
    _write(out / "summary.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n",
           failures, fallback=True)
    return out
