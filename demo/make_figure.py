"""Draw the demo figure for post 90003 (加噪过程示意图) as a small PNG.

Pure standard library (zlib + struct), no PIL, and deterministic: the noise
comes from a seeded ``random.Random``, so re-running the script rewrites the
same bytes.  Three panels show ``x_t = a*x_0 + b*eps`` with ``a^2 + b^2 = 1``
for a decreasing ``a``: a clean curve slowly drowned in noise.

Usage: python demo/make_figure.py [output.png]
"""

from __future__ import annotations

import math
import random
import struct
import sys
import zlib
from pathlib import Path

WIDTH, HEIGHT = 400, 200
DEFAULT_OUT = Path(__file__).resolve().parent / "images/usr/uploads/2024/03/90003-1.png"

# Palette (colour type 3 keeps the file tiny).
PALETTE = [
    (255, 255, 255),  # 0 background
    (225, 225, 225),  # 1 grid
    (90, 90, 90),  # 2 axis / frame
    (31, 119, 180),  # 3 clean signal (blue)
    (255, 127, 14),  # 4 noisy sample (orange)
]
BG, GRID, AXIS, CLEAN, NOISY = range(5)


def new_canvas() -> list[bytearray]:
    return [bytearray([BG] * WIDTH) for _ in range(HEIGHT)]


def put(canvas: list[bytearray], x: int, y: int, colour: int) -> None:
    if 0 <= x < WIDTH and 0 <= y < HEIGHT:
        canvas[y][x] = colour


def line(canvas: list[bytearray], x0: int, y0: int, x1: int, y1: int, colour: int, thick: int = 1) -> None:
    """Bresenham line, optionally thickened by stamping a small square."""
    dx, dy = abs(x1 - x0), -abs(y1 - y0)
    sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
    err = dx + dy
    half = thick // 2
    while True:
        for ox in range(-half, thick - half):
            for oy in range(-half, thick - half):
                put(canvas, x0 + ox, y0 + oy, colour)
        if x0 == x1 and y0 == y1:
            return
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x0 += sx
        if e2 <= dx:
            err += dx
            y0 += sy


def gaussian(rng: random.Random) -> float:
    # Box-Muller on rng.random(), whose sequence is stable across Python versions.
    u1 = max(rng.random(), 1e-12)
    u2 = rng.random()
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def draw(canvas: list[bytearray]) -> None:
    rng = random.Random(90003)
    n = 48
    signal = [math.sin(2 * math.pi * i / (n - 1)) * 0.8 for i in range(n)]
    noise = [gaussian(rng) * 0.5 for _ in range(n)]
    alphas = [1.0, 0.75, 0.25]
    margin, gap = 12, 10
    panel_w = (WIDTH - 2 * margin - 2 * gap) // 3
    top, bottom = 14, HEIGHT - 14
    for k, alpha in enumerate(alphas):
        left = margin + k * (panel_w + gap)
        right = left + panel_w
        mid = (top + bottom) // 2
        half_h = (bottom - top) / 2 - 4
        # Grid and frame.
        for frac in (0.25, 0.5, 0.75):
            gx = left + int(frac * panel_w)
            line(canvas, gx, top, gx, bottom, GRID)
            gy = top + int(frac * (bottom - top))
            line(canvas, left, gy, right, gy, GRID)
        line(canvas, left, mid, right, mid, AXIS)
        for x0, y0, x1, y1 in ((left, top, right, top), (left, bottom, right, bottom), (left, top, left, bottom), (right, top, right, bottom)):
            line(canvas, x0, y0, x1, y1, AXIS)
        beta = math.sqrt(1.0 - alpha * alpha)

        def to_px(i: int, value: float) -> tuple[int, int]:
            x = left + 3 + round(i * (panel_w - 6) / (n - 1))
            v = max(-1.0, min(1.0, value / 1.4))
            return x, round(mid - v * half_h)

        # The sample x_t = alpha * x_0 + beta * eps (identical to x_0 when beta = 0).
        sample = [alpha * s + beta * e for s, e in zip(signal, noise)]
        colour = CLEAN if beta == 0 else NOISY
        for i in range(n - 1):
            line(canvas, *to_px(i, sample[i]), *to_px(i + 1, sample[i + 1]), colour, thick=2)
        # Thin reference on top: the clean curve in every panel.
        for i in range(n - 1):
            line(canvas, *to_px(i, signal[i]), *to_px(i + 1, signal[i + 1]), CLEAN)


def png_bytes(canvas: list[bytearray]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(row) for row in canvas)
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 3, 0, 0, 0)
    palette = b"".join(struct.pack("BBB", *rgb) for rgb in PALETTE)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"PLTE", palette) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas = new_canvas()
    draw(canvas)
    out.write_bytes(png_bytes(canvas))
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
