"""requirements.lock (``make lock``) must pin, with hashes, exactly the versions requirements.txt asks for."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]+\])?==([^\s;\\]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def test_every_pinned_requirement_is_locked_at_the_same_version_with_hashes():
    lock_text = (REPO / "requirements.lock").read_text()
    locked = _pins(lock_text)
    required = _pins((REPO / "requirements.txt").read_text())
    assert required, "requirements.txt pins nothing?"
    mismatched = {
        name: (version, locked.get(name)) for name, version in required.items() if locked.get(name) != version
    }
    assert mismatched == {}, "requirements.lock is stale: run `make lock`"
    # Every locked package carries at least one hash, so pip can install with --require-hashes.
    blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", lock_text.strip())
    without_hash = [block.split("==")[0] for block in blocks if "--hash=sha256:" not in block]
    assert without_hash == []
    assert len(blocks) == len(locked)
