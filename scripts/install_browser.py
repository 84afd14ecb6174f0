"""Install Debian's Chromium and ChromeDriver for the browser tests when missing (as root)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.services import ensure_browser

if __name__ == "__main__":
    problem = ensure_browser()
    if problem is not None:
        print(f"no browser: {problem}")
    sys.exit(1 if problem else 0)
