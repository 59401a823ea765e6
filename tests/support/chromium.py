"""Render a local HTML file in headless Chromium (Debian's `chromium`): screenshot, console messages,
and every network request the page made (from Chromium's own net log), with no network to reach."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CONSOLE = re.compile(r":CONSOLE:?\(?\d*\)?\] (.*)$", re.M)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    # Nothing answers: a page that tries to fetch anything gets an error, and the net log shows it.
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--enable-logging=stderr",
    "--v=0",
)


def binary() -> str | None:
    """The Chromium executable, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass(frozen=True)
class Rendered:
    """What Chromium did with the page."""

    screenshot: Path
    console: list[str]
    page_requests: list[str]  # URLs the page itself requested (not the browser's own background calls)


def _page_requests(net_log: Path) -> list[str]:
    log = json.loads(net_log.read_text())
    names = {code: name for name, code in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if names.get(event["type"]) == "URL_REQUEST_START_JOB" and "file://" in params.get("network_isolation_key", ""):
            urls.append(str(params.get("url")))
    return urls


def render(page: Path, work: Path, width: int = 1280, height: int = 1600) -> Rendered:
    """Load ``page`` (a local file) in a fresh profile and take a screenshot.

    Raises:
        RuntimeError: Chromium failed or wrote no screenshot.
    """
    executable = binary()
    if executable is None:
        raise RuntimeError("chromium is not installed")
    shot, net_log = work / "screenshot.png", work / "net-log.json"
    command = [
        executable,
        *FLAGS,
        f"--user-data-dir={work / 'profile'}",
        f"--log-net-log={net_log}",
        f"--window-size={width},{height}",
        f"--screenshot={shot}",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not shot.exists():
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return Rendered(shot, CONSOLE.findall(done.stderr), _page_requests(net_log))
