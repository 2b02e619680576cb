"""Fetch axe-core (the accessibility checker the browser test runs) from the npm registry.

Downloads one pinned release's tarball, checks it against the integrity hash the registry
publishes for it, and extracts ``axe.min.js`` to ``_build/axe/``. Needs no Node.js or npm;
does nothing when the file is there already. Usage: ``python scripts/fetch_axe.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "4.14.1"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
INTEGRITY = ("sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe"
             "37OgudVGtQ==")
TARGET = Path(__file__).resolve().parents[1] / "_build" / "axe" / "axe.min.js"


def verified(data: bytes) -> bool:
    algorithm, _, expected = INTEGRITY.partition("-")
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == expected


def main() -> int:
    if TARGET.exists():
        return 0
    print(f"Fetching axe-core {VERSION} from the npm registry...")
    with urllib.request.urlopen(TARBALL, timeout=60) as response:
        data = response.read()
    if not verified(data):
        print(f"axe-core {VERSION}: the download does not match its registry integrity hash",
              file=sys.stderr)
        return 1
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        script = tar.extractfile("package/axe.min.js").read()
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(script)
    return 0


if __name__ == "__main__":
    sys.exit(main())
