"""``python -m responsesim.web [--host H] [--port P] [--store F] [--data-dir D] ...``: run the server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from responsesim.web.serve import RemoteRefusedError, serve
from responsesim.web.settings import MIB


def main(argv: list[str] | None = None) -> int:
    """Parse the same flags as ``responsesim serve`` and run the server; 2 on a refused address."""
    p = argparse.ArgumentParser(prog="python -m responsesim.web", description="responsesim web server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--store", type=Path, default=Path("results.duckdb"))
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--max-replications", type=int, default=20000)
    p.add_argument("--max-upload-bytes", type=int, default=MIB)
    p.add_argument("--max-concurrent-jobs", type=int, default=1)
    p.add_argument("--max-queued-jobs", type=int, default=8)
    p.add_argument("--allow-remote", action="store_true")
    p.add_argument("--backend", default="numba", help="engine backend for runs (numba: the compiled engine)")
    a = p.parse_args(argv)
    try:
        serve(
            host=a.host,
            port=a.port,
            store=a.store,
            data_dir=a.data_dir,
            max_replications=a.max_replications,
            max_upload_bytes=a.max_upload_bytes,
            max_concurrent_jobs=a.max_concurrent_jobs,
            max_queued_jobs=a.max_queued_jobs,
            allow_remote=a.allow_remote,
            backend=a.backend,
        )
    except (RemoteRefusedError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
