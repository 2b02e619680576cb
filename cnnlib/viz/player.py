"""A small, self-contained animation player: one image, drawn buttons, a labelled slider.

:func:`player_html` turns frames (``data:`` URIs, as :func:`cnnlib.viz.figure_output.data_uri`
writes them) into HTML that works the same on the static website, in JupyterLab, the
classic notebook and Colab:

- one ``<img>`` shows the current frame; without JavaScript (or in print) it shows the
  first one, with ``describe`` as its alt text;
- buttons "previous frame", "play"/"pause" and "next frame" are drawn as inline SVG icons
  (no icon font, no emoji: every system draws them) and carry an ``aria-label``;
- a range input, with a visible label giving the current value, moves to any frame;
  it and the buttons are used with the keyboard as any form control is, and the arrow keys
  and the space bar work on the whole player once it has the focus;
- the first frame is the ``<img>``'s ``src``; the others sit in a JavaScript array of plain
  ``"data:image/…;base64,…"`` strings, one per line (the site's build step moves each into
  a file and leaves its address there);
- the player does not start by itself, and every id is unique to the player.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
from collections.abc import Sequence

__all__ = ["ICONS", "player_html"]

_COUNTER = itertools.count(1)

#: The buttons' icons: inline SVG paths in a 16 × 16 box, filled with the text colour.
ICONS = {
    "previous": "M3 2h2v12H3zM14 2v12L6 8z",
    "play": "M4 2l10 6-10 6z",
    "pause": "M3 2h4v12H3zM9 2h4v12H9z",
    "next": "M11 2h2v12h-2zM2 2v12l8-6z",
}


def _icon(name: str) -> str:
    return (f'<svg class="cnnlib-player-icon" viewBox="0 0 16 16" width="16" height="16" '
            f'aria-hidden="true" focusable="false"><path fill="currentColor" '
            f'd="{ICONS[name]}"/></svg>')


def _button(action: str, label: str, icon: str) -> str:
    return (f'<button type="button" class="cnnlib-player-button" data-action="{action}" '
            f'aria-label="{label}" title="{label}">{_icon(icon)}</button>')


_SCRIPT = """<script>
(function () {
  var root = document.getElementById(%(id)s);
  if (!root || root.dataset.ready) { return; }
  root.dataset.ready = "1";
  var img = root.querySelector("img");
  var frames = [img.getAttribute("src"),
%(frames)s
  ];
  var labels = %(labels)s;
  var range = root.querySelector("input[type=range]");
  var shown = root.querySelector("output"), play = root.querySelector("[data-action=play]");
  var icons = {play: %(play)s, pause: %(pause)s};
  var current = 0, timer = null;
  function show(i) {
    current = (i + frames.length) %% frames.length;
    img.src = frames[current];
    range.value = current;
    range.setAttribute("aria-valuetext", labels[current]);
    shown.textContent = labels[current];
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.setAttribute("aria-label", "Play"); play.title = "Play";
    play.innerHTML = icons.play;
  }
  function start() {
    timer = setInterval(function () { show(current + 1); }, %(interval)d);
    play.setAttribute("aria-label", "Pause"); play.title = "Pause";
    play.innerHTML = icons.pause;
  }
  root.querySelector("[data-action=previous]").onclick = function () { stop(); show(current - 1); };
  root.querySelector("[data-action=next]").onclick = function () { stop(); show(current + 1); };
  play.onclick = function () { if (timer === null) { start(); } else { stop(); } };
  range.oninput = function () { stop(); show(parseInt(range.value, 10)); };
  root.addEventListener("keydown", function (e) {
    if (e.target === range) { return; }
    if (e.key === "ArrowLeft") { stop(); show(current - 1); e.preventDefault(); }
    else if (e.key === "ArrowRight") { stop(); show(current + 1); e.preventDefault(); }
    else if (e.key === " " && e.target === root) { play.click(); e.preventDefault(); }
  });
  frames.forEach(function (src) { var pre = new Image(); pre.src = src; });
})();
</script>"""


def player_html(frames: Sequence[str], labels: Sequence[str], describe: str,
                width: float | None = None, *, interval_ms: int = 700,
                control: str = "frame") -> str:
    """HTML of a player over ``frames`` (image addresses, e.g. ``data:`` URIs).

    ``labels``: one per frame, shown beside the slider (``"stride = 2"``); ``describe``:
    the image's alt text, saying in words what the frames show; ``width``: the image's
    width in CSS px (its logical size; it never exceeds the column); ``interval_ms``: the
    time per frame when playing; ``control``: the slider's accessible name.
    """
    frames, labels = list(frames), [str(x) for x in labels]
    if not frames or not all(isinstance(f, str) and f and "\n" not in f for f in frames):
        raise ValueError("frames must be a non-empty list of image addresses (one line each)")
    if len(labels) != len(frames):
        raise ValueError(f"labels must have one entry per frame: {len(labels)} labels for "
                         f"{len(frames)} frames")
    if not isinstance(describe, str) or not describe.strip():
        raise ValueError(f"describe must be a non-empty string, got {describe!r}")
    if not isinstance(interval_ms, int) or isinstance(interval_ms, bool) or interval_ms <= 0:
        raise ValueError(f"interval_ms must be a positive int, got {interval_ms!r}")
    digest = hashlib.sha256("\n".join(frames).encode()).hexdigest()[:10]
    uid = f"cnnlib-player-{next(_COUNTER)}-{digest}"
    size = f' width="{round(width)}"' if width else ""
    last = len(frames) - 1
    controls = "".join([
        _button("previous", "Previous frame", "previous"),
        _button("play", "Play", "play"),
        _button("next", "Next frame", "next"),
        f'<label class="cnnlib-player-label" for="{uid}-range">{html.escape(control)}</label>',
        f'<input type="range" id="{uid}-range" class="cnnlib-player-range" min="0" '
        f'max="{last}" step="1" value="0" aria-valuetext="{html.escape(labels[0])}">',
        f'<output class="cnnlib-player-value" for="{uid}-range" aria-live="polite">'
        f'{html.escape(labels[0])}</output>',
    ])
    body = (f'<div class="cnnlib-player" id="{uid}" role="group" tabindex="0" '
            f'aria-label="Animation, {len(frames)} frames: use the buttons, the slider or '
            f'the arrow keys">'
            f'<img class="cnnlib-player-frame" src="{frames[0]}" alt="{html.escape(describe)}"'
            f'{size} style="max-width:100%;height:auto;display:block">'
            f'<div class="cnnlib-player-controls" style="display:flex;align-items:center;'
            f'gap:0.4em;flex-wrap:wrap">{controls}</div></div>')
    script = _SCRIPT % {
        "id": json.dumps(uid),
        "frames": ",\n".join(f'    "{f}"' for f in frames[1:]),
        "labels": json.dumps(labels, ensure_ascii=False).replace("</", "<\\/"),
        "play": json.dumps(_icon("play")),
        "pause": json.dumps(_icon("pause")),
        "interval": interval_ms,
    }
    return body + script
