"""``python -m chronik_codegen {fetch,generate} [--check]``."""

from __future__ import annotations

import argparse
import sys

from .fetch import fetch_all
from .model import ModelError, build_model
from .paths import cache_dir, load_pins, output_dir, repo_root
from .render import check_tree, render_all, write_tree
from .specload import SpecError, load_spec_dir


def generate(check: bool) -> int:
    root = repo_root()
    releases = load_pins(root)
    spec_sets = {}
    for rel in releases:
        folder = cache_dir(rel, root)
        if not folder.is_dir():
            print(
                f"no specs for kafka-clients {rel.version} in {folder}: run `python -m chronik_codegen fetch`",
                file=sys.stderr,
            )
            return 2
        spec_sets[rel.version] = load_spec_dir(folder)
    model = build_model(spec_sets)
    files = render_all(model, [r.version for r in releases])
    out = output_dir(root)
    if check:
        problems = check_tree(out, files)
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            print(
                f"generated/ is out of date ({len(problems)} files): run `python -m chronik_codegen generate`",
                file=sys.stderr,
            )
            return 1
        print(f"generated/ is up to date ({len(files)} files)")
        return 0
    write_tree(out, files)
    print(f"wrote {len(files)} files to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chronik_codegen", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="download the pinned kafka-clients jars and extract their specs")
    f.add_argument("--force", action="store_true", help="re-download even if the cache matches the pin")
    g = sub.add_parser("generate", help="compile the specs into generated/")
    g.add_argument("--check", action="store_true", help="regenerate in memory and fail on any drift")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "fetch":
            fetch_all(force=args.force)
            return 0
        return generate(args.check)
    except (SpecError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
