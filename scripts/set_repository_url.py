"""Point the course at a repository: ``make set-url URL=https://github.com/<you>/<repo>``.

The repository URL appears in three kinds of place, which must agree (tests/test_hygiene.py
and tests/test_publishing.py check it):

- ``_config.yml``'s ``repository.url``: the website's Colab launch button and its
  repository and issue buttons;
- the setup cell of every notebook (chapters, exercises, exercises/sources, reference), which
  installs cnnlib from ``git+<url>`` on Colab;
- README.md's Gradescope instructions, which install cnnlib the same way.

This script rewrites all of them and nothing else; a notebook changes in its one
``%pip install`` line only. It needs only Python's standard library (no set-up first).

Usage: ``python scripts/set_repository_url.py URL [--root DIR]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("chapters", "exercises", "reference")  # exercises/sources included
GITHUB = re.compile(r"https://github\.com/[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]+")
PIP_URL = re.compile(r"git\+https?://[^\s\"'@]+")
# The `url:` line inside the top-level `repository:` block of _config.yml.
CONFIG_URL = re.compile(r"^(repository:[ \t]*(?:#.*)?\n(?:(?:[ \t]+.*|[ \t]*)\n)*?[ \t]+url:[ \t]*"
                        r"[\"']?)([^\s\"'#]+)", re.MULTILINE)


class UrlError(ValueError):
    """The URL given, or a file to rewrite, is not what this script expects."""


def normalise(url: str) -> str:
    """``https://github.com/<owner>/<repo>``, without a trailing slash or ``.git``."""
    url = url.strip().rstrip("/")
    url = url.removesuffix(".git")
    if not GITHUB.fullmatch(url):
        raise UrlError(f"not a GitHub repository URL: {url!r}. Give it as "
                       "https://github.com/<owner>/<repository>: the Colab launch button "
                       "and the Pages workflow need a repository on GitHub.")
    return url


def config_url(text: str) -> str:
    """The ``repository.url`` of a ``_config.yml`` text."""
    match = CONFIG_URL.search(text)
    if not match:
        raise UrlError("_config.yml has no `url:` under `repository:`")
    return match.group(2)


def rewrite_config(text: str, url: str) -> str:
    return CONFIG_URL.sub(lambda m: m.group(1) + url, text, count=1)


def rewrite_notebook(text: str, url: str) -> str:
    """The notebook's text with its setup cell's ``git+<url>`` replaced, bytes elsewhere kept.

    Each setup-cell line that installs from ``git+`` is found in the parsed notebook, then
    replaced in the file's text as JSON encodes it, so the file keeps its formatting."""
    nb = json.loads(text)
    first = nb["cells"][0] if nb.get("cells") else {}
    if "setup" not in first.get("metadata", {}).get("tags", []):
        raise UrlError("its first cell is not the setup cell (tagged `setup`)")
    lines = first["source"] if isinstance(first["source"], list) else [first["source"]]
    new_lines = [PIP_URL.sub(f"git+{url}", line) for line in lines]
    if not any(PIP_URL.search(line) for line in lines):
        raise UrlError("its setup cell has no `%pip install ... git+<url>` line")
    for old, new in zip(lines, new_lines, strict=True):
        if old == new:
            continue
        encoded_old = json.dumps(old, ensure_ascii=False)
        if text.count(encoded_old) != 1:
            raise UrlError(f"the line {old.strip()!r} is not found exactly once in the file")
        text = text.replace(encoded_old, json.dumps(new, ensure_ascii=False))
    if isinstance(first["source"], list):
        first["source"] = new_lines
    else:
        first["source"] = new_lines[0]
    assert json.loads(text) == nb, "the rewrite changed more than the setup cell"
    return text


def notebooks(root: Path) -> list[Path]:
    return sorted(p for d in NOTEBOOK_DIRS for p in (root / d).rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def set_url(url: str, root: Path = ROOT) -> list[Path]:
    """Rewrite every place that names the repository; return the files that changed."""
    url = normalise(url)
    config = root / "_config.yml"
    old = config_url(config.read_text(encoding="utf-8"))
    updates: dict[Path, str] = {config: rewrite_config(config.read_text(encoding="utf-8"), url)}
    for path in notebooks(root):
        try:
            updates[path] = rewrite_notebook(path.read_text(encoding="utf-8"), url)
        except (UrlError, KeyError, IndexError, json.JSONDecodeError) as err:
            raise UrlError(f"{path.relative_to(root)}: {err}") from err
    readme = root / "README.md"
    if readme.exists():
        exact_old = re.compile(re.escape(old) + r"(?![A-Za-z0-9_-])")
        updates[readme] = exact_old.sub(url, readme.read_text(encoding="utf-8"))
    changed = [p for p, text in updates.items() if text != p.read_text(encoding="utf-8")]
    for path in changed:  # every file was rewritten in memory first: all or nothing
        path.write_text(updates[path], encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="https://github.com/<owner>/<repository>")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course's folder")
    args = parser.parse_args(argv)
    try:
        changed = set_url(args.url, args.root)
    except UrlError as err:
        print(f"set-url: {err}", file=sys.stderr)
        return 2
    url = normalise(args.url)
    if not changed:
        print(f"Every file already names {url}.")
    else:
        print(f"{len(changed)} files now name {url}:")
        for path in changed:
            print(f"  {path.relative_to(args.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
