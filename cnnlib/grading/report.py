"""What the grader writes: ``grades.csv``, one JSON report per submission, Gradescope files.

Layout of ``--out DIR``::

    grades.csv                          a row per student, a column per question, the total,
                                        the statuses that are not ok; first row: points possible
    reports/<student>.json              every question's status, score, feedback and per-check
                                        results (hidden checks without their values), notes on
                                        cells that failed, the captured output (capped)
    gradescope/<student>/results.json   the same verdicts in Gradescope's results.json format
    summary.json                        the run: exercise, points, counts per status, time

Every file is written to a temporary name and renamed, after all grading is done, so nothing a
submission writes while it runs can stand in for them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from .grader import STATUSES, SubmissionResult
from .question import Exercise

__all__ = ["POINTS_ROW", "gradescope_results", "write_reports"]

POINTS_ROW = "POINTS POSSIBLE"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


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
        "extra_data": {"statuses": {k: v.status for k, v in result.questions.items()}},
    }


def write_reports(exercise: Exercise, results: list[SubmissionResult], out_dir,
                  seconds: float = 0.0, extra: dict | None = None) -> Path:
    """Write every output file into ``out_dir`` (created if needed); return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "grades.csv", grades_csv(exercise, results))
    for r in results:
        _atomic_write(out / "reports" / f"{r.student}.json",
                      json.dumps(r.as_dict(), indent=1, ensure_ascii=False) + "\n")
        _atomic_write(out / "gradescope" / r.student / "results.json",
                      json.dumps(gradescope_results(exercise, r), indent=1,
                                 ensure_ascii=False) + "\n")
    counts = Counter(q.status for r in results for q in r.questions.values())
    summary = {
        "exercise": exercise.name, "title": exercise.title, "submissions": len(results),
        "points_possible": exercise.points,
        "questions": {q.name: q.points for q in exercise.questions},
        "statuses": {s: counts.get(s, 0) for s in STATUSES},
        "mean_score": round(sum(r.total for r in results) / len(results), 4) if results else 0,
        "seconds": round(seconds, 1), **(extra or {}),
    }
    _atomic_write(out / "summary.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return out
