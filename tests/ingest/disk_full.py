"""Helper for the full-disk test: runs inside a private mount namespace (see test_faults.py).

    unshare -m --propagation private python -m tests.ingest.disk_full WORK SLACK_BYTES

Mounts a small tmpfs as the data dir, ingests a corpus, fills the disk, ingests more, and
prints one JSON line of what happened at each step. It needs root (CI runs as root); the
test skips with the reason when the kernel refuses the mount."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ingest.settings import Settings
from ingest.store import Store
from tests.conftest import MODEL_CACHE

SIZE = "48M"


def cli(*args: str, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-m", "assistant.cli", *args], env=env,
                          capture_output=True, text=True, timeout=600)
    return {"rc": proc.returncode, "stderr": proc.stderr[-2000:], "stdout": proc.stdout[-2000:]}


def snapshot(data: Path) -> dict[str, str]:
    settings = Settings(data_dir=data, model_cache=MODEL_CACHE)
    return {c.id: c.hash for c in Store(settings).all_chunks()}


def fill(folder: Path, slack: int) -> int:
    """Fill the disk, then give back `slack` bytes: enough to open the index, not to grow it."""
    written = 0
    block = b"\0" * 65536
    with open(folder / "filler.bin", "wb", buffering=0) as fh:
        try:
            while True:
                written += fh.write(block)
        except OSError:
            pass
        try:  # the last few bytes too, so the very next write fails
            while True:
                written += fh.write(b"\0" * 512)
        except OSError:
            pass
        written -= slack
        fh.truncate(written)
    return written


def main(work: Path, slack: int) -> None:
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(data)], check=True)
    env = {**os.environ, "NPT_DATA_DIR": str(data), "NPT_MODEL_CACHE": str(MODEL_CACHE)}
    out: dict = {}
    out["first"] = cli("ingest", str(work / "corpus"), env=env)
    out["before"] = snapshot(data)
    out["filled_bytes"] = fill(data, slack)
    for extra in sorted((work / "more").iterdir()):  # new documents that will not fit
        (work / "corpus" / extra.name).write_bytes(extra.read_bytes())
    out["full"] = cli("ingest", str(work / "corpus"), env=env)
    out["after_full"] = snapshot(data)
    out["ask_full"] = cli("ask", "--json", "hotlines", env=env)
    (data / "filler.bin").unlink()
    out["freed"] = cli("ingest", str(work / "corpus"), env=env)
    out["after_freed"] = snapshot(data)
    print(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
