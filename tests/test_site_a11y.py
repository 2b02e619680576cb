"""Accessibility of every page, light and dark: axe-core finds no serious or critical problem.

axe-core (Deque's rules engine, fetched from the npm registry by `make test`, see
scripts/fetch_axe.py) checks contrast, names of buttons and links, landmarks, alt text and
more. Each failure names the rule, the elements and axe's own explanation.
"""

import pytest
from site_browser import PAGES, ROOT, visiting

pytestmark = pytest.mark.site

AXE = ROOT / "_build" / "axe" / "axe.min.js"
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module", params=["light", "dark"])
def visits(request, browser, server):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `python scripts/fetch_axe.py` (make test does)")
    with visiting(browser, server, PAGES, color_scheme=request.param) as done:
        yield request.param, done


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " — "
                                              + n.failureSummary.split("\\n")[1])}));
    }""")


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(visits, path):
    mode, pages = visits
    page = pages[path].page
    assert page.evaluate("document.documentElement.dataset.theme") == mode
    serious = [v for v in axe_violations(page) if v["impact"] in SERIOUS]
    report = "\n".join(f"{v['impact']}: {v['id']} ({v['help']})\n    " + "\n    ".join(v["nodes"])
                       for v in serious)
    assert not serious, f"{path} in {mode} mode:\n{report}"
