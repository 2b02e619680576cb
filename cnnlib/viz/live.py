"""The live controls of an explorer: ipywidgets that depend on each other, one redraw each.

:func:`cnnlib.viz.widgets.explorer` is the entry point (and draws the static preview of the
website); in a live Jupyter kernel it hands its controls to this module, which builds them
(ipywidgets 7, as in Colab, or 8, as in JupyterLab) and keeps the picture in step:

- :class:`NumberBox`: a control typed into a number box (a float), not picked from a list;
- :class:`ControlRules`: the checked ``active``, ``choices``, ``link``, ``note`` and ``rows``
  of an explorer — how its controls depend on each other (below);
- :class:`LiveExplorer`: the controls, their current values and the picture.

A list of numbers gives a slider, of booleans a checkbox, of anything else a drop-down.
No control may silently do nothing, so the controls depend on each other:

- ``active={name: predicate(params)}``: the control is disabled (greyed) whenever its
  predicate of the current values is false — its value does not matter in that state;
- ``choices={name: options(params)}``: the values a slider or drop-down offers in the current
  state (e.g. a ``step`` only over the outputs that exist); a control left with one value is
  disabled;
- ``link(changed, params) -> {name: value}``: after the student changes the control
  ``changed``, set others (e.g. editing a kernel weight selects the custom kernel);
- ``note(params) -> str``: one line under the controls saying why some are disabled;
- ``rows``: lays the controls out in rows (e.g. a 3×3 grid of :class:`NumberBox` weights).

Each change of a control draws the picture once, however many controls ``link`` and
``choices`` update. The ipywidgets box the explorer returns has an attribute ``explorer``
(the :class:`LiveExplorer`) that holds the current values, the widgets and the render
function, so that a test can move a control in Python (``box.explorer.controls["stride"]
.value = 2``) and draw the state into pixels (``box.explorer.picture()``) without a browser.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["ControlRules", "LiveExplorer", "NumberBox"]


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


@dataclass(frozen=True)
class NumberBox:
    """A control whose value is typed into a number box, not picked from a list of values.

    ``value``: the start value (unless the explorer's ``defaults`` give one). ``low`` and
    ``high``: bounds, given together (a typed value outside is clamped to them; ipywidgets'
    ``BoundedFloatText``), or neither (``FloatText``, any float). ``step``: what the box's
    arrows add or subtract; ``None`` (the default) lets the browser accept any value
    without marking it as off the step (HTML ``step="any"``), the arrows then adding 1. The
    value is a float; a typed value counts once the student presses Enter or leaves the box.
    """

    value: float = 0.0
    low: float | None = None
    high: float | None = None
    step: float | None = None

    def __post_init__(self):
        for name in ("value", "step", "low", "high"):
            v = getattr(self, name)
            if not (_is_number(v) or (v is None and name != "value")):
                raise TypeError(f"NumberBox {name} must be a number, got {v!r}")
        if (self.low is None) != (self.high is None):
            raise ValueError("NumberBox low and high must be given together (or neither), got "
                             f"low={self.low!r}, high={self.high!r}")
        if self.low is not None and not self.low <= self.value <= self.high:
            raise ValueError(f"NumberBox value must lie in [low, high] = [{self.low}, "
                             f"{self.high}], got {self.value!r}")
        if self.step is not None and self.step <= 0:
            raise ValueError(f"NumberBox step must be positive, got {self.step!r}")


def _widget(name: str, spec, value):
    import ipywidgets as w

    style = {"description_width": "initial"}
    if isinstance(spec, NumberBox):
        common = dict(value=float(value), step=spec.step, description=name, style=style,
                      continuous_update=False, layout=w.Layout(width="11em"))
        if spec.low is None:
            return w.FloatText(**common)
        return w.BoundedFloatText(min=spec.low, max=spec.high, **common)
    if all(isinstance(v, bool) for v in spec):
        return w.Checkbox(value=bool(value), description=name, style=style)
    if all(_is_number(v) for v in spec):
        return w.SelectionSlider(options=spec, value=value, description=name,
                                 continuous_update=False, style=style)
    return w.Dropdown(options=_labelled(spec), value=value, description=name, style=style)


def _labelled(values: list) -> list:
    return [(str(v), v) for v in values]


def _named_callables(what: str, spec, options: dict) -> dict:
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise TypeError(f"{what} must be a dict {{control name: function of params}}, got "
                        f"{spec!r}")
    for name, rule in spec.items():
        if name not in options:
            raise ValueError(f"{what} names {name!r}, which is not a control: {list(options)}")
        if not callable(rule):
            raise TypeError(f"{what}[{name!r}] must be a function of params, got {rule!r}")
    return dict(spec)


def _checked_rows(rows, options: dict) -> list[list[str]]:
    if rows is None:
        return []
    if isinstance(rows, str) or not isinstance(rows, Sequence) or any(
            isinstance(row, str) or not isinstance(row, Sequence) for row in rows):
        raise TypeError(f"rows must be a list of lists of control names, got {rows!r}")
    named = [name for row in rows for name in row]
    for name in named:
        if name not in options:
            raise ValueError(f"rows names {name!r}, which is not a control: {list(options)}")
    if len(set(named)) != len(named):
        raise ValueError(f"rows must name each control at most once, got {rows!r}")
    return [list(row) for row in rows]


@dataclass(frozen=True)
class ControlRules:
    """The checked ``active``, ``choices``, ``link``, ``note`` and ``rows`` of an explorer.

    :meth:`checked` raises ``TypeError``/``ValueError`` for a rule that names no control or is
    not a function, and for ``choices`` on a number box or a checkbox; the explorer checks its
    rules this way before it decides between the live controls and the static preview.
    """

    active: dict
    choices: dict
    link: Callable | None
    note: Callable | None
    rows: list

    @classmethod
    def checked(cls, options, active, choices, link, note, rows) -> ControlRules:
        """The rules of an explorer whose controls are ``options`` (``{name: list of
        values, or a NumberBox}``), checked; arguments as in :func:`cnnlib.viz.explorer`."""
        choices = _named_callables("choices", choices, options)
        for name in choices:
            spec = options[name]
            if isinstance(spec, NumberBox) or all(isinstance(v, bool) for v in spec):
                kind = "number box" if isinstance(spec, NumberBox) else "checkbox"
                raise ValueError(f"choices can only restrict a slider or a drop-down; "
                                 f"{name!r} is a {kind}")
        for what, fn in (("link", link), ("note", note)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{what} must be a function or None, got {fn!r}")
        return cls(_named_callables("active", active, options), choices, link, note,
                   _checked_rows(rows, options))


def _nearest(value, values: list):
    """``value`` if offered, else the nearest number offered, else the first option."""
    if value in values:
        return value
    if _is_number(value) and all(_is_number(v) for v in values):
        return min(values, key=lambda v: abs(v - value))
    return values[0]


class LiveExplorer:
    """The live state of an explorer: its controls, their current values, its picture.

    :func:`cnnlib.viz.widgets.explorer` (live) builds it from the checked ``options``
    (``{name: list of values, or a NumberBox}``), the ``start`` values and the
    :class:`ControlRules`, and returns its ``box``: an ipywidgets ``VBox`` — the controls, a
    note and the picture — whose attribute ``explorer`` is this object. Attributes:

    - ``render``: the explorer's ``render(ax, **params)``;
    - ``params``: ``{name: current value}`` of every control, as ``render`` gets it;
    - ``controls``: ``{name: widget}``; ``note``: the ``Label`` of ``note(params)``;
      ``output``: the ``Output`` the picture is drawn into;
    - ``redraws``: pictures drawn so far (one at the start, then one per change).

    Setting a widget's ``value`` — the student does it in the browser, a test in Python —
    runs the same code: ``params``, ``link``, ``choices``, ``active``, ``note``, one redraw.
    """

    #: The size of the live picture, in inches.
    figsize = (5.0, 4.0)

    def __init__(self, render: Callable, options: dict, start: dict, rules: ControlRules):
        import ipywidgets as w

        self.render, self.rules = render, rules
        self.params = dict(start)
        self.controls = {name: _widget(name, spec, start[name])
                         for name, spec in options.items()}
        self._offered = {name: list(options[name]) for name in rules.choices}
        self.note = w.Label(value="")
        self.output = w.Output()
        self.redraws = 0
        self._busy = False
        self._settle(None)
        for name, widget in self.controls.items():
            widget.observe(functools.partial(self._changed, name), names="value")
        self.box = w.VBox([self._layout(), self.note, self.output])
        self.box.explorer = self
        self.redraw()

    # ---------------------------------------------------------------- what a test reads
    def enabled(self) -> list[str]:
        """The names of the controls the student can change now."""
        return [name for name, widget in self.controls.items() if not widget.disabled]

    def offered(self, name: str) -> list | None:
        """The values control ``name`` offers now (``None`` for a number box)."""
        widget = self.controls[name]
        if name in self._offered:
            return list(self._offered[name])
        if hasattr(widget, "options"):
            return [v[1] if isinstance(v, tuple) else v for v in widget.options]
        return [False, True] if isinstance(widget.value, bool) else None

    def picture(self, params: dict | None = None, dpi: int = 50) -> np.ndarray:
        """``render`` of ``params`` (default: the current ones) as RGBA pixels ``(H, W, 4)``,
        drawn by matplotlib's Agg backend at the live picture's size."""
        fig = Figure(figsize=self.figsize, dpi=dpi)
        FigureCanvasAgg(fig)
        self.render(fig.subplots(), **(self.params if params is None else params))
        fig.canvas.draw()
        return np.asarray(fig.canvas.buffer_rgba()).copy()

    def set(self, **values) -> None:
        """Set several controls at once, as if the explorer had started with these values
        (``link`` gets ``changed=None``); then ``choices``, ``active`` and ``note``, and one
        redraw. E.g. ``box.explorer.set(kernel="sobel_x")``."""
        for name in values:
            if name not in self.controls:
                raise ValueError(f"set names {name!r}, which is not a control: "
                                 f"{list(self.controls)}")
        self.params.update(values)
        self._settle(None)
        self.redraw()

    # ----------------------------------------------------------------- the live machinery
    def _layout(self):
        import ipywidgets as w

        named = {name for row in self.rules.rows for name in row}
        rest = [widget for name, widget in self.controls.items() if name not in named]
        wrap = w.HBox(rest, layout=w.Layout(flex_flow="row wrap"))
        if not self.rules.rows:
            return wrap
        rows = [w.HBox([self.controls[name] for name in row]) for row in self.rules.rows]
        return w.VBox(([wrap] if rest else []) + rows)

    def _changed(self, name: str, change) -> None:
        if self._busy:  # set by link or choices: the change that caused it redraws
            return
        self.params[name] = change["new"]
        self._settle(name)
        self.redraw()

    def _settle(self, changed: str | None) -> None:
        """Apply ``link``, ``choices``, ``active`` and ``note`` after ``changed`` changed."""
        self._busy = True
        try:
            if self.rules.link is not None:
                self._apply_link(changed)
            for name, rule in self.rules.choices.items():
                self._restrict(name, list(rule(dict(self.params))))
            for name, widget in self.controls.items():
                if widget.value != self.params[name]:  # set by set(), not by the widget
                    widget.value = self.params[name]
                    self.params[name] = widget.value  # as the widget holds it (clamped)
                widget.disabled = not self._is_active(name)
            text = str(self.rules.note(dict(self.params))) if self.rules.note else ""
            self.note.value = text
            self.note.layout.display = None if text else "none"
        finally:
            self._busy = False

    def _apply_link(self, changed: str | None) -> None:
        updates = self.rules.link(changed, dict(self.params))
        if updates is None:
            return
        if not isinstance(updates, dict):
            raise TypeError(f"link must return a dict {{control name: value}}, got {updates!r}")
        for name, value in updates.items():
            if name not in self.controls:
                raise ValueError(f"link set {name!r}, which is not a control: "
                                 f"{list(self.controls)}")
            self.controls[name].value = value
            self.params[name] = self.controls[name].value

    def _restrict(self, name: str, values: list) -> None:
        if not values:
            raise ValueError(f"choices[{name!r}] must offer at least one value, got none")
        widget = self.controls[name]
        if values != self._offered[name]:
            dropdown = type(widget).__name__ == "Dropdown"
            widget.options = _labelled(values) if dropdown else values
            self._offered[name] = values
        value = _nearest(self.params[name], values)
        widget.value = value  # also after new options, which select the first one
        self.params[name] = value

    def _is_active(self, name: str) -> bool:
        if name in self._offered and len(self._offered[name]) < 2:
            return False
        rule = self.rules.active.get(name)
        return rule is None or bool(rule(dict(self.params)))

    def redraw(self) -> None:
        """Draw the current state into ``output`` (replacing the previous picture)."""
        self.redraws += 1
        with self.output:
            self.output.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=self.figsize)
            try:
                self.render(ax, **self.params)
                plt.show()
            finally:
                plt.close(fig)  # inline backends close on show; others would keep every redraw
