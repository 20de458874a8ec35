"""The README's screenshots of the dashboard: Overview, Funnel split by segment, Marketing,
Forecast (the bookings and leads fan charts).

    .venv/bin/python docs/screenshots.py [--db funnel.duckdb] [--out docs] [--only forecast.png]

Serves the workspace (no auth, on 127.0.0.1) and photographs each page with Debian's Chromium
(/usr/bin/chromium) driven by Playwright, once every chart is drawn. Make the workspace with
`funnelmetrics demo` (the README's come from `--leads 20000`).
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from funnelmetrics.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
PAGES = {"overview.png": "/?lang=en",
         "funnel-split.png": "/funnel?by=segment&lang=en",
         "marketing.png": "/marketing?lang=en",
         "forecast.png": "/forecast?lang=en"}
# Pictures cut below an element (the Forecast page's two fan charts: bookings and leads).
ENDS_AT = {"forecast.png": '[data-card="2"]'}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="funnel.duckdb")
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    p.add_argument("--only", action="append", choices=sorted(PAGES),
                   help="Only this screenshot (repeatable; default: all).")
    args = p.parse_args()
    chosen = {name: path for name, path in PAGES.items() if not args.only or name in args.only}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(args.db, auth=False, warm=False),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            for name, path in chosen.items():
                page.goto(f"http://127.0.0.1:{port}{path}", timeout=180_000)
                page.wait_for_function(
                    "[...document.querySelectorAll('[data-chart]')]"
                    ".every(e => e.getAttribute('data-drawn') === '1')", timeout=180_000)
                box = (page.locator(ENDS_AT[name]).bounding_box() if name in ENDS_AT
                       else None)
                clip = None if box is None else {"x": 0, "y": 0, "width": 1360,
                                                 "height": box["y"] + box["height"] + 16}
                page.screenshot(path=str(args.out / name), full_page=True, clip=clip)
                print(f"{args.out / name}")
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
