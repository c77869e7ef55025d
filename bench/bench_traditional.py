"""How much the Traditional conversion adds to preparing a volume (the --tex-only work).

    python bench/bench_traditional.py [VOLUME] [--config s2twp] [--repeat 3]

Prepares VOLUME (default: diffusion) from the corpus with
``bookgen.pipeline.prepare_volume`` without and with a Traditional config, and
prints the times, the conversion's own time (the traditional pass's time, as
``bookgen build -v`` prints it: building the converter and converting) and its ratio
to the Simplified preparation: for the first run in the process ("cold": OpenCC
loads its dictionaries) and the best of --repeat later runs ("warm").  The
target is a ratio of at most 0.20 for both; exit 1 when it is missed.  The
whole preparation times are noisy (other passes, a busy machine): the pass's
own time is the number to read.  Skips (exit 0) with a message when the corpus
is absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("BOOKGEN_CORPUS") or REPO.parent / "shared" / "corpus" / "md")
TARGET = 0.20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("volume", nargs="?", default="diffusion")
    parser.add_argument("--config", default="s2twp", choices=("s2t", "s2tw", "s2twp", "s2hk"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--manifest", type=Path, default=REPO / "series.yaml")
    args = parser.parse_args()
    if not CORPUS.is_dir() or not any(CORPUS.glob("*.md")):
        print(f"skipped: corpus not found at {CORPUS} (set BOOKGEN_CORPUS)")
        return 0

    from bookgen.manifest import load_manifest
    from bookgen.pipeline import BuildOptions, prepare_volume
    from bookgen.transforms import traditional

    manifest = load_manifest(args.manifest)
    volume = manifest.volume(args.volume)

    def prepare(config: str):
        options = BuildOptions(sources=(CORPUS,), traditional=config)
        start = time.perf_counter()
        prepared = prepare_volume(manifest, volume, options)
        return time.perf_counter() - start, prepared

    # The first run of each pays the one-time costs of a process (imports, OpenCC's
    # dictionaries, parse caches): report it as "cold", then the best of --repeat warm runs.
    cold_base, _prepared = prepare("none")
    cold_full, prepared = prepare(args.config)
    cold_conversion = prepared.pass_times.get("traditional", 0.0)
    simplified, converted, convert_only = [], [], []
    for _ in range(args.repeat):
        traditional.text_spans.cache_clear()
        seconds, _prepared = prepare("none")
        simplified.append(seconds)
        traditional.text_spans.cache_clear()
        seconds, prepared = prepare(args.config)
        converted.append(seconds)
        convert_only.append(prepared.pass_times.get("traditional", 0.0))
    base, full, conversion = min(simplified), min(converted), min(convert_only)
    chars = sum(len(ch.post.path.read_text(encoding="utf-8")) for ch in prepared.book.chapters)
    ratio = conversion / base if base else float("inf")
    cold_ratio = cold_conversion / cold_base if cold_base else float("inf")
    print(f"volume {args.volume}: {len(volume.chapters)} posts, {chars / 1e6:.2f} M characters of source")
    print(f"{'':42}{'cold':>10}{'warm':>10}")
    print(f"{'prepare, Simplified (--tex-only work)':42}{cold_base * 1000:8.0f}ms{base * 1000:8.0f}ms")
    print(f"{'prepare, ' + args.config:42}{cold_full * 1000:8.0f}ms{full * 1000:8.0f}ms")
    print(f"{'conversion (the traditional pass)':42}{cold_conversion * 1000:8.0f}ms{conversion * 1000:8.0f}ms")
    print(f"{'conversion / Simplified preparation':42}{cold_ratio:10.3f}{ratio:10.3f}   (target <= {TARGET:.2f})")
    ratio = max(ratio, cold_ratio)
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
