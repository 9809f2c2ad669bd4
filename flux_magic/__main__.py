"""Command line: ``python -m flux_magic demo [--url URL]``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flux_magic",
        description="flux_magic: Flux's http.endpoint() for pandas DataFrames.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="preview and send Flux's sampledata.int() table to an embedded receiver"
    )
    demo.add_argument("--url", help="send to this URL instead of the embedded loopback receiver")
    demo.add_argument("--concurrency", type=int, default=1, help="requests in flight (default 1)")
    args = parser.parse_args(argv)
    from ._demo import run_demo

    return run_demo(url=args.url, concurrency=args.concurrency)


if __name__ == "__main__":
    sys.exit(main())
