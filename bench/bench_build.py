#!/usr/bin/env python3
"""How long bookgen takes, and where the time goes.  See bench/README.md.

    python bench/bench_build.py [--corpus DIR] [--repeat N] [--no-pandoc] [--no-tex] [--parts abcde]

(a) .tex for every post of the corpus: bookgen (read + normalize + render, one
    synthetic volume of all posts) versus ``pandoc -f markdown -t latex`` on the
    same files, one process per file as a user would run it;
(b) a full build of the demo volume: bookgen's own share (prepare + write)
    versus latexmk/xelatex;
(c) the normalizer over the corpus: its total, each pass (the timings
    ``bookgen build -v`` prints), and its share of a ``--tex-only`` run;
(d) the fallback ladder: a cold build of the diffusion volume against latexmk
    alone on the same .tex (a book without errors costs no extra TeX pass), and
    the same build with one formula TeX rejects (what one fallback round adds);
(e) rebuilds of the diffusion volume, each against its cold build: `bookgen
    build` again with nothing changed (a process of its own, as a user runs
    it), after one post was edited (bookgen's share beside TeX's), and a
    `--chapter` preview against a volume of that one post.

A part is skipped, with a message, when the corpus, pandoc or TeX is missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bookgen.errors import UserError  # noqa: E402
from bookgen.manifest import ChapterEntry, Manifest, Volume, load_manifest  # noqa: E402
from bookgen.compile import TEX_STATE, run_latexmk  # noqa: E402
from bookgen.pipeline import BuildOptions, build_volume, prepare_volume, preview_chapter, write_volume  # noqa: E402
from bookgen.sources import SourceIndex  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "md"


def corpus_dir(option: str | None) -> Path:
    if option:
        return Path(option).resolve()
    env = os.environ.get("BOOKGEN_CORPUS")
    return Path(env).resolve() if env else DEFAULT_CORPUS


def clear_caches() -> None:
    """Parses, compiled templates and cache entries read are kept per process; forget them, so every run
    is a run like a fresh `bookgen build` (which reads the cache folder from disk)."""
    from bookgen.cache import REMEMBERED
    from bookgen.latex import templating
    from bookgen.transforms import tex

    for function in (tex.parse, tex.walked, templating._environment):
        function.cache_clear()
    REMEMBERED.forget()


def heading(text: str) -> None:
    print()
    print(text)
    print("-" * len(text))


def seconds(value: float) -> str:
    return f"{value * 1000:8.1f} ms" if value < 1 else f"{value:8.2f} s "


def corpus_volume(folder: Path) -> tuple[Manifest, Volume, int]:
    """A synthetic volume holding every post in ``folder``, in archive-id order."""
    index = SourceIndex.scan((folder,))
    ids = sorted(index.by_id)
    volume = Volume(
        key="corpus", title="corpus", subtitle="", author="", paper="a4paper", traditional=None, phrases=None,
        sources=(folder,), images=(), chapters=tuple(ChapterEntry(i, None, 0) for i in ids), line=0,
    )  # fmt: skip
    manifest = Manifest(path=REPO / "series.yaml", sources=(), images=(), volumes={"corpus": volume})
    return manifest, volume, len(ids)


# ---------------------------------------------------------------- (a) and (c)


def bench_corpus(folder: Path, repeat: int, use_pandoc: bool) -> None:
    heading(f"(a) .tex for every post of {folder}")
    manifest, volume, count = corpus_volume(folder)
    if count == 0:
        print("skipped: no posts with an archive id in the corpus folder")
        return
    modes = {
        "one process, no cache": dict(jobs=1, cache=False),
        f"cold: -j {os.cpu_count()}, empty cache": dict(jobs=os.cpu_count() or 1),
        "warm: the cache filled": dict(jobs=os.cpu_count() or 1),
    }
    timings: dict[str, float] = {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            for mode, settings in modes.items():
                clear_caches()
                options = BuildOptions(sources=(folder,), tex_only=True, out_dir=Path(tmp) / "out", **settings)
                start = time.perf_counter()
                prepared = prepare_volume(manifest, volume, options)
                write_volume(prepared, options.out_dir / volume.key)
                total = time.perf_counter() - start
                timings[mode] = min(timings.get(mode, total), total)
                if mode.startswith("one process"):
                    serial_prepared = prepared
    prepared = serial_prepared
    stages, pass_times = prepared.stopwatch.times, prepared.pass_times  # what `bookgen build -v` prints
    total = timings["one process, no cache"]
    files = sum(1 for p in prepared.files if p.startswith("posts/"))
    print(f"posts: {count} ({files} .tex files), best of {repeat}")
    for mode, value in timings.items():
        print(f"bookgen --tex-only, {mode + ':':<28} {seconds(value)}  ({value / count * 1000:.1f} ms/post)")
    print("  one process, by stage:")
    for stage in ("read+repair", "normalize", "render"):
        print(f"    {stage:<12} {seconds(stages.get(stage, 0.0))}")

    if not use_pandoc:
        print("pandoc: skipped (--no-pandoc)")
    elif shutil.which("pandoc") is None:
        print("pandoc: skipped (not installed)")
    else:
        paths = [SourceIndex.scan((folder,)).by_id[c.id] for c in volume.chapters]
        version = subprocess.run(["pandoc", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        pandoc_runs = []
        failures = 0
        for _ in range(repeat):
            start = time.perf_counter()
            for path in paths:
                done = subprocess.run(["pandoc", "-f", "markdown", "-t", "latex", str(path)],
                                      capture_output=True)  # fmt: skip
                failures += done.returncode != 0
            pandoc_runs.append(time.perf_counter() - start)
        pandoc_time = min(pandoc_runs)
        print(f"{version} (-f markdown -t latex, one process per post): {seconds(pandoc_time)}"
              f"  ({pandoc_time / count * 1000:.1f} ms/post{', %d failed' % failures if failures else ''})")  # fmt: skip
        for mode, value in timings.items():
            print(f"ratio bookgen ({mode}) / pandoc: {value / pandoc_time:.3f}  (below 1: bookgen is faster)")

    heading("(c) the normalizer over the corpus")
    normalize = sum(pass_times.values())
    print(f"normalizer: {seconds(normalize)}  = {normalize / total * 100:.1f}% of the one-process --tex-only work above")
    for name, value in sorted(pass_times.items(), key=lambda item: -item[1]):
        share = value / normalize * 100 if normalize else 0.0
        print(f"  {name:<18} {seconds(value)}  {share:5.1f}% of the normalizer")


# ---------------------------------------------------------------- (b)


def bench_demo(repeat: int) -> None:
    heading("(b) full build of the demo volume")
    missing = [tool for tool in ("latexmk", "xelatex") if shutil.which(tool) is None]
    if missing:
        print(f"skipped: {' and '.join(missing)} not installed")
        return
    manifest = load_manifest(REPO / "series.yaml")
    volume = manifest.volume("demo")
    results = []
    for _ in range(repeat):
        clear_caches()
        with tempfile.TemporaryDirectory() as tmp:
            options = BuildOptions(out_dir=Path(tmp))
            start = time.perf_counter()
            prepared = prepare_volume(manifest, volume, options)
            result = build_volume(prepared, options)
            total = time.perf_counter() - start
            times = dict(result.times)
            pages = result.log.pages if result.log else 0
        results.append((total, times, pages))
    total, times, pages = min(results, key=lambda r: r[0])
    tex = times.get("tex", 0.0)
    own = sum(value for name, value in times.items() if name != "tex")
    print(f"posts: {len(volume.chapters)}, {pages} pages, best of {repeat} (a fresh build folder each time)")
    print(f"total:                 {seconds(total)}")
    print(f"bookgen (prepare+write): {seconds(own)}  {own / total * 100:5.1f}%")
    for name in ("load+parse", "normalize", "glyphs", "render", "write"):
        print(f"  {name:<12}          {seconds(times.get(name, 0.0))}")
    print(f"latexmk/xelatex:       {seconds(tex)}  {tex / total * 100:5.1f}%")
    print(f"ratio bookgen / TeX: {own / tex:.3f}" if tex else "TeX time: 0")


# ---------------------------------------------------------------- (d)


def counted_build(manifest, volume, sources: tuple[Path, ...], out: Path) -> tuple[float, int, int]:
    """(seconds, xelatex runs, units shown as source) of a cold build."""
    runs: list[str] = []
    options = BuildOptions(sources=sources, out_dir=out)
    start = time.perf_counter()
    result = build_volume(prepare_volume(manifest, volume, options), options, lambda n, rule: runs.append(rule))
    return time.perf_counter() - start, runs.count("xelatex"), len(result.fallbacks)


def diffusion_volume(folder: Path):
    """(manifest, the diffusion volume, the index of ``folder``), or None with the reason printed."""
    if shutil.which("latexmk") is None or shutil.which("xelatex") is None:
        print("skipped: latexmk/xelatex not installed")
        return None
    manifest = load_manifest(REPO / "series.yaml")
    volume = manifest.volume("diffusion")
    index = SourceIndex.scan((folder,))
    if any(index.find(entry.id) is None for entry in volume.chapters):
        print(f"skipped: the diffusion posts are not in {folder}")
        return None
    return manifest, volume, index


def bench_fallback(folder: Path, repeat: int) -> None:
    heading("(d) the fallback ladder: diffusion, clean and with one formula TeX rejects")
    found = diffusion_volume(folder)
    if found is None:
        return
    manifest, volume, index = found
    first = index.find(volume.chapters[0].id)
    clean, alone, broken = [], [], []
    for _ in range(repeat):
        clear_caches()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            clean.append(counted_build(manifest, volume, (folder,), out))
            for name in TEX_STATE + ("main.pdf",):  # the same .tex, TeX's files gone: latexmk from cold
                (out / "diffusion" / name).unlink(missing_ok=True)
            start = time.perf_counter()
            runs: list[str] = []
            run_latexmk(out / "diffusion", lambda n, rule: runs.append(rule))
            alone.append((time.perf_counter() - start, runs.count("xelatex")))
            bad = Path(tmp) / "bad"
            bad.mkdir()
            text = first.read_text(encoding="utf-8").replace("\n\n", "\n\n公式 $\\kern x$ 放错了地方。\n\n", 1)
            (bad / first.name).write_text(text, encoding="utf-8")
            clear_caches()
            broken.append(counted_build(manifest, volume, (bad, folder), Path(tmp) / "out-bad"))
    clean_s, clean_runs, _ = min(clean)
    alone_s, alone_runs = min(alone)
    broken_s, broken_runs, fallbacks = min(broken)
    print(f"posts: {len(volume.chapters)}, best of {repeat}, cold builds")
    print(f"bookgen build, no errors:       {seconds(clean_s)}  ({clean_runs} xelatex runs)")
    print(f"latexmk alone on the same .tex: {seconds(alone_s)}  ({alone_runs} xelatex runs)")
    print(f"ratio build / latexmk alone: {clean_s / alone_s:.2f}  (extra xelatex runs: {clean_runs - alone_runs})")
    print(f"bookgen build, one bad formula: {seconds(broken_s)}  ({broken_runs} xelatex runs, {fallbacks} shown as source)")
    print(f"ratio one fallback / no errors: {broken_s / clean_s:.2f}")


# ---------------------------------------------------------------- (e)


def cli_run(*args: str) -> tuple[float, str]:
    """(seconds, stdout) of ``bookgen build ARGS`` in a process of its own."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bookgen", "build", *args], cwd=REPO, check=True,
                          env={**os.environ, "BOOKGEN_SOURCES": ""}, capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - start, done.stdout


def cli_seconds(*args: str) -> float:
    return cli_run(*args, "-q")[0]


def edit(post: Path) -> None:
    """One more sentence in the post's prose: what a revised post usually is."""
    post.write_text(post.read_text(encoding="utf-8").replace("。", "。改。", 1), encoding="utf-8")


def share(total: float, tex: float) -> str:
    return f"{seconds(total)} of which TeX {seconds(tex)}: bookgen adds {(total - tex) / tex * 100:.1f}% of TeX's time"


def watch_edits(args: tuple[str, ...], edits: list[tuple[Path, float]]) -> list[tuple[float, float]]:
    """(seconds, TeX's seconds) of each rebuild of a `bookgen build --watch` process, one per (post, pause before
    editing it): from the line saying it saw the change to the line with its stage times."""
    process = subprocess.Popen([sys.executable, "-m", "bookgen", "build", *args, "--watch", "-v"], cwd=REPO,
                               env={**os.environ, "BOOKGEN_SOURCES": "", "PYTHONUNBUFFERED": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    lines = iter(process.stdout.readline, "")

    def until(text: str) -> str:
        return next(line for line in lines if text in line)

    timings = []
    try:
        until("watching")
        for post, pause in edits:
            time.sleep(pause)
            edit(post)
            until("changed: building again")
            start = time.perf_counter()
            stages = until(": stages: ")
            timings.append((time.perf_counter() - start, float(re.search(r"\btex ([0-9.]+) s", stages).group(1))))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    return timings


def bench_rebuilds(folder: Path) -> None:
    heading("(e) rebuilds of diffusion: nothing changed, one post edited, one chapter previewed")
    found = diffusion_volume(folder)
    if found is None:
        return
    manifest, volume, index = found
    with tempfile.TemporaryDirectory() as tmp:
        sources, out = Path(tmp) / "posts", Path(tmp) / "out"
        sources.mkdir()
        for entry in volume.chapters:
            shutil.copy(index.find(entry.id), sources / index.find(entry.id).name)
        edited = sources / index.find(volume.chapters[len(volume.chapters) // 2].id).name
        common = ("diffusion", "--sources", str(sources), "--out", str(out))
        cold = cli_seconds(*common)
        noop = cli_seconds(*common)
        print(f"cold build (bookgen build, a process):        {seconds(cold)}")
        print(f"again, nothing changed:                       {seconds(noop)}   ratio {noop / cold:.3f}")
        edit(edited)
        total, stdout = cli_run(*common, "-v")
        tex = float(re.search(r"\btex ([0-9.]+) s", stdout).group(1))
        print(f"one post edited, bookgen build (a process):   {share(total, tex)}")
        print("    (the process's own start: Python, imports, fonts' coverage, templates compiled)")
        # --watch: a process that builds, then again after each edit; timed from its "changed" line to its stages.
        other = sources / index.find(volume.chapters[len(volume.chapters) // 3].id).name
        watched = (*common[:-1], str(Path(tmp) / "watched"))
        for when, (total, tex) in zip(("right after its first build", "a few seconds later"),
                                      watch_edits(watched, [(edited, 0.0), (other, 3.0)])):  # fmt: skip
            print(f"one post edited, --watch, {when}: {share(total, tex)}")
        options = BuildOptions(sources=(sources,), out_dir=Path(tmp) / "watched")
        chapter = volume.chapters[len(volume.chapters) // 2].id
        start = time.perf_counter()
        preview_chapter(prepare_volume(manifest, volume, options), options, chapter)
        preview = time.perf_counter() - start
        alone = dataclasses.replace(volume, key="alone", chapters=tuple(e for e in volume.chapters if e.id == chapter))
        start = time.perf_counter()
        build_volume(prepare_volume(manifest, alone, options), options)
        single = time.perf_counter() - start
        print(f"--chapter {chapter} preview:                {seconds(preview)}")
        print(f"a volume of that one post, cold:              {seconds(single)}   ratio preview / it {preview / single:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", help="folder of posts (default: $BOOKGEN_CORPUS or ../shared/corpus/md)")
    parser.add_argument("--repeat", type=int, default=1, help="run each part N times and keep the best (default 1)")
    parser.add_argument("--no-pandoc", action="store_true", help="skip the pandoc comparison")
    parser.add_argument("--no-tex", action="store_true", help="skip the demo build with xelatex")
    parser.add_argument("--parts", default="abcde", help="which parts to run (default abcde; c comes with a)")
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    print(f"bookgen benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    folder = corpus_dir(args.corpus)
    if "a" not in args.parts:
        pass
    elif folder.is_dir() and any(folder.glob("*.md")):
        try:
            bench_corpus(folder, repeat, not args.no_pandoc)
        except UserError as exc:
            print(f"stopped: bookgen cannot prepare the corpus: {exc}")
    else:
        heading("(a) and (c): the corpus")
        print(f"skipped: no corpus at {folder} (give --corpus DIR or set BOOKGEN_CORPUS)")
    if args.no_tex:
        heading("(b) full build of the demo volume")
        print("skipped (--no-tex)")
    else:
        try:
            if "b" in args.parts:
                bench_demo(repeat)
        except UserError as exc:
            print(f"stopped: the demo build failed: {exc}")
        try:
            if "d" in args.parts:
                bench_fallback(folder, repeat)
            if "e" in args.parts:
                bench_rebuilds(folder)
        except UserError as exc:
            print(f"stopped: the diffusion build failed: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
