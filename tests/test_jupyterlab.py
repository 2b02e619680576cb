"""The notebooks in JupyterLab, as a student runs them after `make lab`: live widgets, checks.

`make lab` (the README's command) starts JupyterLab headless on a free local port with a random
token, over a temporary folder holding copies of one chapter with explorers (chapter 4) and one
exercise (exercise 2), laid out as in the repository — JupyterLab saves what it runs, and the
repository's notebooks stay without outputs. Chromium (Playwright) opens each notebook, runs
every cell from the Run menu, and then acts as a student: it moves sliders and types into
widgets and compares the figure before and after; it writes an answer into the exercise and
reads the verdict of `check(...)`.
The server is shut down at the end, kernels included.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from site_browser import ARTIFACTS, DESKTOP

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "04_conv2d.ipynb"
EXERCISE = "02_conv1d.ipynb"
RUN_TIMEOUT_S = 300
# JupyterLab settings for a quiet, deterministic session: no news or update checks (the machine
# is offline), and every cell kept in the page (no virtual scrolling) so that all are found.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                     "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


class Lab:
    """A running JupyterLab server: its URL, token, folder and process."""

    def __init__(self, tmp: Path):
        self.root = tmp / "notebooks"
        for path in (f"chapters/{CHAPTER}", f"exercises/{EXERCISE}",
                     "chapters/00_getting_started.ipynb"):  # the page `make lab` opens
            (self.root / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / path, self.root / path)
        settings = tmp / "settings"
        for name, values in SETTINGS.items():
            path = settings / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if k != "CNNLIB_STATIC"}  # live widgets
        env.update(JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "rt"),
                   IPYTHONDIR=str(tmp / "ipython"), CNNLIB_CACHE=str(tmp / "cache"))
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{_free_port()}"
        self.log = (tmp / "server.log").open("w")
        options = ["--no-browser", "--ip=127.0.0.1", f"--port={self.base.rsplit(':', 1)[1]}",
                   f"--IdentityProvider.token={self.token}",
                   f"--LabApp.user_settings_dir={settings}",
                   f"--LabApp.workspaces_dir={tmp / 'ws'}"]
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "-C", str(ROOT), "lab", f"LAB_DIR={self.root}",
             f"LAB_ARGS={' '.join(options)}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready(tmp / "server.log")

    def _wait_ready(self, log: Path, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {self.proc.returncode}:\n{log.read_text()}")
            try:
                _api(self.base, self.token, "/api/status")
                return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"JupyterLab did not answer within {timeout:.0f} s:\n{log.read_text()}")

    def url(self, notebook: str) -> str:
        """The notebook alone in a workspace of its own (JupyterLab would otherwise reopen
        what the server's default workspace had open)."""
        workspace = Path(notebook).stem
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?token={self.token}"

    def landing(self) -> str:
        """Where `make lab` sends a browser that opens the server's root URL."""
        with urllib.request.urlopen(f"{self.base}/?token={self.token}", timeout=10) as r:
            return r.url

    def kernel_processes(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    def shutdown(self) -> None:
        """Ask the server to stop (it shuts its kernels down), then make sure it did."""
        kernels = self.kernel_processes()
        try:
            _api(self.base, self.token, "/api/shutdown", method="POST")
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=10)
        _, alive = psutil.wait_procs(kernels, timeout=10)
        for p in alive:
            p.kill()
        self.log.close()
        assert not alive, f"kernels outlived the server: {alive}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.shutdown()


def open_and_run_all(browser, lab: Lab, notebook: str):
    """Open ``notebook`` in JupyterLab, run every cell from the Run menu, wait until all ran;
    return the page. Fails on an error output."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(lab.url(notebook))
    # The status bar says "Python 3 (ipykernel) | Idle" once the kernel is connected.
    page.wait_for_selector(".jp-StatusBar-Widget:has-text('| Idle')", timeout=90_000)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    started = None
    while True:
        prompts = page.eval_on_selector_all(".jp-CodeCell .jp-InputPrompt",
                                            "es => es.map(e => e.textContent.trim())")
        if started is None or (time.monotonic() - started > 20 and set(prompts) == {"[ ]:"}):
            # (again if nothing started: a click that came before the kernel was ready)
            page.click(".lm-MenuBar-item:has-text('Run')")
            page.click(".lm-Menu-item[data-command='runmenu:run-all']")
            started = time.monotonic()
        elif prompts and all(p not in ("[*]:", "[ ]:", "") for p in prompts):
            break
        assert time.monotonic() < deadline, f"{notebook}: cells still running: {prompts}"
        time.sleep(1)
    errors = page.eval_on_selector_all(
        "[data-mime-type='application/vnd.jupyter.stderr']",
        "es => es.map(e => e.textContent)")
    tracebacks = [e for e in errors if "Traceback" in e or "Error" in e]
    assert not tracebacks, f"{notebook} raised in JupyterLab:\n{tracebacks[0][:3000]}"
    return page


def explorer_boxes(page):
    """The explorers' outermost widget boxes (a box of controls above an output)."""
    return page.locator(".jp-OutputArea-output > .widget-vbox:has(> .widget-output)")


def figure(box) -> str:
    """The figure an explorer shows now: its image's source (a data URI)."""
    image = box.locator(".widget-output img, .widget-output svg").first
    image.wait_for(timeout=30_000)
    return image.evaluate("e => e.getAttribute('src') || e.outerHTML")


def wait_for_new_figure(box, before: str, what: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            now = figure(box)
        except Exception:  # the output is cleared while the figure is redrawn
            now = before
        if now != before:
            return now
        time.sleep(0.2)
    pytest.fail(f"{what}: the explorer's figure did not change within {timeout:.0f} s")


def test_make_lab_opens_the_course(lab):
    assert lab.landing().split("?")[0].endswith("/lab/tree/chapters/00_getting_started.ipynb")


def assert_kernel_in_venv(lab: Lab) -> None:
    """`make lab` serves the venv's own kernel: the running kernel's Python is the one the
    tests run with (the server starts the native ipykernel with its own interpreter)."""
    specs = _api(lab.base, lab.token, "/api/kernelspecs")
    assert specs["default"] in specs["kernelspecs"]
    kernels = [p for p in lab.kernel_processes() if "ipykernel_launcher" in " ".join(p.cmdline())]
    assert kernels, "no kernel is running"
    for p in kernels:
        assert Path(p.cmdline()[0]).parent == Path(sys.executable).parent, p.cmdline()


def _slider_label(handle) -> str:
    return handle.locator("xpath=ancestor::div[contains(@class,'widget-slider')]/label") \
        .inner_text()


def check_filter_explorer(page, box) -> None:
    """The filter explorer as the chapter describes it: a named kernel's weights in the grid,
    an edited weight makes the kernel "custom 3×3", the grid greys out for a 5×5 kernel and
    `A` only moves the sharpening filter."""
    from cnnlib.filters import SOBEL_X

    kernel = box.locator(".widget-dropdown select").first
    weights = box.locator(".widget-text input")
    before = figure(box)
    kernel.select_option(label="sobel_x")
    before = wait_for_new_figure(box, before, "kernel sobel_x")
    shown = [float(weights.nth(i).input_value()) for i in range(9)]
    assert shown == SOBEL_X.flatten().tolist(), shown
    weights.nth(4).fill("3")  # the centre weight
    weights.nth(4).press("Enter")
    before = wait_for_new_figure(box, before, "a weight typed in")
    chosen = kernel.evaluate("e => e.options[e.selectedIndex].text")
    assert chosen.replace("\xa0", " ") == "custom 3×3"  # (ipywidgets shows spaces as nbsp)
    kernel.select_option(label="box_5")
    before = wait_for_new_figure(box, before, "kernel box_5")
    assert box.locator(".widget-text input[disabled]").count() == 9, "the grid greys out"
    slider_a = box.locator(".widget-slider").filter(has_text="A")
    assert slider_a.locator("[disabled]").count() > 0, "A is greyed out for box_5"
    kernel.select_option(label="sharpen")
    before = wait_for_new_figure(box, before, "kernel sharpen")
    slider_a.locator("[disabled]").first.wait_for(state="detached", timeout=10_000)
    centre = weights.nth(4).input_value()
    slider_a.locator(".noUi-handle").focus()
    page.keyboard.press("End")  # A from 2 to its largest value
    wait_for_new_figure(box, before, "A moved for the sharpening filter")
    assert weights.nth(4).input_value() != centre, "the grid follows A"


def test_chapter_explorers_respond_to_their_controls(lab, browser):
    page = open_and_run_all(browser, lab, f"chapters/{CHAPTER}")
    try:
        boxes = explorer_boxes(page)
        moved, filters = [], 0
        for i in range(boxes.count()):
            box = boxes.nth(i)
            box.scroll_into_view_if_needed()
            if box.locator("option", has_text="custom 3×3").count():
                check_filter_explorer(page, box)
                filters += 1
                continue
            before = figure(box)
            handle = box.locator(".widget-slider:not(:has([disabled])) .noUi-handle").first
            name = _slider_label(handle)
            handle.focus()
            page.keyboard.press("End")  # the slider's last value
            wait_for_new_figure(box, before, f"explorer {i + 1}, slider {name!r}")
            moved.append(name)
        assert filters == 1 and len(moved) >= 2, (filters, moved)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-chapter.png"))
        assert_kernel_in_venv(lab)
    finally:
        page.context.close()


def _solution(question: str) -> str:
    """The reference solution of ``question`` from the exercise's source notebook."""
    source = json.loads((ROOT / "exercises" / "sources" / EXERCISE).read_text())
    for cell in source["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code" and text.startswith(f"def {question}("):
            return "\n".join(line for line in text.splitlines()
                             if "### BEGIN SOLUTION" not in line
                             and "### END SOLUTION" not in line)
    raise AssertionError(f"no solution cell for {question}")


def test_exercise_check_gives_its_verdict(lab, browser):
    page = open_and_run_all(browser, lab, f"exercises/{EXERCISE}")
    try:
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        texts = cells.evaluate_all("cs => cs.map(c => c.querySelector('.cm-content').innerText)")
        answer = next(i for i, t in enumerate(texts) if t.startswith("def conv1d_valid("))
        verdict = cells.nth(answer + 1).locator(".jp-OutputArea-output")
        assert "not written yet" in verdict.inner_text()
        # The student writes the answer and runs it, then its check.
        cells.nth(answer).locator(".cm-content").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(_solution("conv1d_valid"))
        page.keyboard.press("Shift+Enter")
        page.keyboard.press("Shift+Enter")
        deadline = time.monotonic() + 60
        while "✓ conv1d_valid: all" not in verdict.inner_text():
            assert time.monotonic() < deadline, f"verdict: {verdict.inner_text()!r}"
            time.sleep(0.5)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-exercise.png"))
    finally:
        page.context.close()
