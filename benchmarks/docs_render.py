"""Check that the docs site's Mermaid diagrams render, in a real browser, with no network.

    python benchmarks/docs_render.py [--out /tmp/docs-render]

Builds the site (``mkdocs build --strict``), serves it on localhost, and opens every page that holds a
Mermaid diagram in headless Chromium (Debian's ``chromium`` package; ``apt-get install chromium``) with its
background networking off, so a diagram only renders from the Mermaid file served with the site. A page passes
when every ``<pre class="mermaid">`` of its HTML became a rendered diagram (Material for MkDocs replaces each
by a ``<div class="mermaid">`` holding the SVG; without Mermaid the code stays, unstyled). Writes a
screenshot of each such page to ``--out`` and exits 1 when a diagram stayed code.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=10000",  # lets the page's scripts run to the end before the DOM is read
]


def chromium(url: str, *extra: str) -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("No Chromium found; install it (Debian: apt-get install chromium).")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return result.stdout


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "docs-render")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    site = args.out / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)], cwd=ROOT, env=env, check=True
    )
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    failed = 0
    try:
        for page in sorted(site.rglob("index.html")):
            diagrams = page.read_text(encoding="utf8").count('<pre class="mermaid">')
            if not diagrams:
                continue
            path = page.parent.relative_to(site).as_posix()
            url = f"http://127.0.0.1:{server.server_port}/{path}/"
            dom = chromium(url, "--dump-dom")
            rendered = len(re.findall(r'<div class="mermaid"', dom))
            shot = args.out / f"{path.replace('/', '_') or 'index'}.png"
            chromium(url, "--window-size=1280,1600", f"--screenshot={shot}")
            ok = rendered == diagrams
            failed += not ok
            print(f"{path}: {rendered} of {diagrams} diagrams rendered; screenshot {shot}")
    finally:
        server.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
