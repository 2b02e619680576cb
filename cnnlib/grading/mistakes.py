"""Known mistakes: feedback that names the slip an answer made, not only that it is wrong.

A question may declare the mistakes students are known to make: a :class:`Mistake` has a short
``label`` ("kernel flipped"), a function ``returns`` with the reference's arguments that
computes what an answer with that slip returns, and a ``hint`` sentence that names the slip and
how to fix it, with no values in it.

When an answer fails, :func:`matching_mistakes` compares its outputs with each mistake's
outputs on the same cases. A mistake matches when, on **every** case where the mistake's output
differs from the reference's, the answer returned the mistake's output (within the question's
tolerance), and there is at least one such case. Cases where the mistake and the reference
agree say nothing about it and are skipped, so an answer with the slip matches even when that
slip only shows on some inputs; cases where ``returns`` raises (the slip has no defined answer
there: a negative size, an empty window) are skipped too, as are cases the answer did not
return from, except where ``returns`` raises :class:`SlipRaises`: an answer with that slip
raises an error there, and the answer must have raised too. The checker and the grader then
print the matching mistake's hint before the question's generic one. The hint is a fixed
sentence, so matching on hidden checks reveals nothing about their values: only that the
answer behaves like the slip.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .compare import Tolerance, compare

__all__ = ["Mistake", "SlipRaises", "matching_mistakes", "mistake_text"]


class SlipRaises(Exception):
    """Raised by a mistake's ``returns`` on a case where an answer with the slip raises."""


@dataclass(frozen=True)
class Mistake:
    """A known slip: ``label`` names it, ``returns(*args)`` computes what an answer with the
    slip returns on the reference's arguments, ``hint`` says how to fix it (no values)."""

    label: str
    returns: Callable[..., Any]
    hint: str

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValueError(f"label must be a non-empty str, got {self.label!r}")
        if not callable(self.returns):
            raise TypeError(f"returns must be a function, got {type(self.returns).__name__}")
        if not isinstance(self.hint, str) or not self.hint.strip():
            raise ValueError(f"hint of mistake {self.label!r} must be a non-empty str")


def _clone(value):
    from .question import _clone as clone  # question imports this module

    return clone(value)


def mistake_text(mistake: Mistake) -> str:
    """The sentence shown for a matching mistake: ``"looks like <label>: <hint>"``."""
    return f"looks like {mistake.label}: {mistake.hint}"


def matching_mistakes(mistakes: Sequence[Mistake], cases: Sequence, outputs: Mapping[int, Any],
                      tolerance: Tolerance | None = None,
                      raised: Collection[int] = ()) -> list[Mistake]:
    """The mistakes of ``mistakes`` whose outputs the answer reproduces.

    ``cases``: the checks (:class:`~cnnlib.grading.question.CheckCase`: ``index``, ``args``,
    ``expected``); ``outputs``: what the answer returned, by case index (cases where it raised
    or did not run are left out); ``raised``: the indices of the cases where it raised. See
    the module docstring for the rule. Each mistake runs once per case the answer answered,
    only when an answer failed, so it costs a few reference-sized computations.
    """
    found = []
    for mistake in mistakes:
        differing = 0
        for case in cases:
            if case.index not in outputs and case.index not in raised:
                continue
            try:
                slip = mistake.returns(*_clone(case.args))
            except SlipRaises:  # an answer with the slip raises here
                if case.index not in raised:
                    break
                differing += 1
                continue
            except Exception:  # the slip has no defined answer on this case
                continue
            if case.index not in outputs:
                break
            if compare(case.expected, slip, tolerance).passed:
                continue  # the slip does not show on this case
            if not compare(slip, outputs[case.index], tolerance).passed:
                break
            differing += 1
        else:
            if differing:
                found.append(mistake)
    return found
