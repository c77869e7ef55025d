"""Draw the demo's second figure for post 90003 (噪声调度) as a small SVG.

The blog draws many of its figures as SVG; this one makes sure the demo book
exercises that path (rsvg-convert turns it into a PDF in the build).  It plots
ᾱ_t and β̄_t = sqrt(1 - ᾱ_t²) for the cosine schedule ᾱ_t = cos(πt/2T).
Plain text output, deterministic: re-running the script rewrites the same bytes.

Usage: python demo/make_schedule_svg.py [output.svg]
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "images/usr/uploads/2024/03/90003-2.svg"
WIDTH, HEIGHT, MARGIN = 360, 200, 30
STEPS = 60


def point(t: float, value: float) -> str:
    x = MARGIN + t * (WIDTH - 2 * MARGIN)
    y = HEIGHT - MARGIN - value * (HEIGHT - 2 * MARGIN)
    return f"{x:.1f},{y:.1f}"


def curve(f, colour: str) -> str:
    points = " ".join(point(i / STEPS, f(i / STEPS)) for i in range(STEPS + 1))
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'


def svg() -> str:
    alpha = lambda t: math.cos(math.pi * t / 2)  # noqa: E731
    beta = lambda t: math.sqrt(max(0.0, 1 - alpha(t) ** 2))  # noqa: E731
    left, bottom, right, top = MARGIN, HEIGHT - MARGIN, WIDTH - MARGIN, MARGIN
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<path d="M{left},{top} V{bottom} H{right}" fill="none" stroke="#5a5a5a" stroke-width="1"/>',
        curve(alpha, "#1f77b4"),
        curve(beta, "#ff7f0e"),
        f'<text x="{left + 8}" y="{top + 12}" font-family="sans-serif" font-size="12" fill="#1f77b4">alpha(t)</text>',
        f'<text x="{left + 8}" y="{bottom - 8}" font-family="sans-serif" font-size="12" fill="#ff7f0e">beta(t)</text>',
        f'<text x="{right - 12}" y="{bottom + 16}" font-family="sans-serif" font-size="12" fill="#5a5a5a">T</text>',
        f'<text x="{left - 4}" y="{bottom + 16}" font-family="sans-serif" font-size="12" fill="#5a5a5a">0</text>',
        "</svg>",
        "",
    ])  # fmt: skip


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(svg(), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
