"""LOLWUT art as Redis 7.0 draws it: Schotter (VERSION 5) and the skyline (VERSION 6).

Any other version prints only "Redis ver. 7.0.15". The art is random, as in Redis.
"""

import math
import random


class Canvas:
    """A grid of color indexes; writes outside it are ignored, reads outside it give 0."""

    def __init__(self, width: int, height: int, background: int = 0):
        self.width = width
        self.height = height
        self.pixels = bytearray([background]) * (width * height)

    def draw(self, x, y, color):
        if 0 <= x < self.width and 0 <= y < self.height:
            self.pixels[x + y * self.width] = color

    def get(self, x, y) -> int:
        if 0 <= x < self.width and 0 <= y < self.height:
            return self.pixels[x + y * self.width]
        return 0

    def line(self, x1, y1, x2, y2, color):
        """Bresenham, as lwDrawLine."""
        dx, dy = abs(x2 - x1), abs(y2 - y1)
        sx = 1 if x1 < x2 else -1
        sy = 1 if y1 < y2 else -1
        err = dx - dy
        while True:
            self.draw(x1, y1, color)
            if x1 == x2 and y1 == y2:
                return
            e2 = err * 2
            if e2 > -dy:
                err -= dy
                x1 += sx
            if e2 < dx:
                err += dx
                y1 += sy

    def square(self, x, y, size, angle, color):
        """A square centered on x,y, rotated by angle: its corners lie on a circle."""
        size = _c_round(size / 1.4142135623)
        k = math.pi / 4 + angle
        points = []
        for _ in range(4):
            points.append((_c_round(math.sin(k) * size + x), _c_round(math.cos(k) * size + y)))
            k += math.pi / 2
        for j in range(4):
            (ax, ay), (bx, by) = points[j], points[(j + 1) % 4]
            self.line(ax, ay, bx, by, color)


def _c_round(value: float) -> int:
    """C's round(): halves go away from zero (Python's round goes to even)."""
    return int(math.floor(value + 0.5)) if value >= 0 else -int(math.floor(-value + 0.5))


# ---- version 5: Georg Nees's Schotter, in braille characters -----------------


def schotter(cols: int, per_row: int, per_col: int) -> Canvas:
    width = cols * 2
    padding = 2 if width > 4 else 0
    side = (width - padding * 2) / per_row
    canvas = Canvas(width, int(side * per_col + padding * 2))
    for y in range(per_col):
        for x in range(per_row):
            sx = int(x * side + side / 2 + padding)
            sy = int(y * side + side / 2 + padding)
            angle = 0.0
            if y > 1:
                # Order dissolves into chaos going down the rows.
                r1, r2, r3 = (random.random() / per_col * y * random.choice((1, -1)) for _ in range(3))
                angle = r1
                sx = int(sx + r2 * side / 3)
                sy = int(sy + r3 * side / 3)
            canvas.square(sx, sy, side, angle, 1)
    return canvas


def render_braille(canvas: Canvas) -> str:
    """Each braille character shows 2x4 pixels, bits arranged 0 3 / 1 4 / 2 5 / 6 7."""
    get = canvas.get
    rows = []
    for y in range(0, canvas.height, 4):
        chars = []
        for x in range(0, canvas.width, 2):
            bits = (
                get(x, y) | get(x, y + 1) << 1 | get(x, y + 2) << 2 | get(x + 1, y) << 3
                | get(x + 1, y + 1) << 4 | get(x + 1, y + 2) << 5 | get(x, y + 3) << 6 | get(x + 1, y + 3) << 7
            )
            chars.append(chr(0x2800 + bits))
        rows.append("".join(chars) + ("\n" if y != canvas.height - 1 else ""))
    return "".join(rows)


def lolwut5(cols: int, per_row: int, per_col: int, version: str) -> bytes:
    canvas = schotter(min(max(cols, 1), 1000), min(max(per_row, 1), 200), min(max(per_col, 1), 200))
    text = render_braille(canvas) + "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. %s\n" % version
    return text.encode()


# ---- version 6: a skyline in the terminal's four grays ---------------------------

_GRAYS = ("0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m")


def _skyscraper(canvas, xoff, width, height, windows, color):
    start_y = canvas.height - 1
    end_y = start_y - height + 1
    for y in range(start_y, end_y - 1, -1):
        for x in range(xoff, xoff + width):
            if y == end_y and (x <= xoff + 1 or x >= xoff + width - 2):
                continue  # the roof is four pixels narrower
            shade = color
            if windows and xoff + 1 < x < xoff + width - 2 and end_y + 1 < y < start_y - 1:
                relx, rely = x - (xoff + 1), y - (end_y + 1)
                # Windows are two pixels wide, one tall (terminal cells are not square).
                if (relx // 2) % 2 and rely % 2:
                    shade = color
                    while shade == color:
                        shade = 1 + random.randrange(2)
                    if relx % 2:
                        shade = canvas.get(x - 1, y)
            canvas.draw(x, y, shade)


def skyline(canvas: Canvas):
    h = canvas.height
    # Background towers first, the lighter gray behind.
    for color in (2, 1):
        offset = -10
        while offset < canvas.width:
            offset += random.randrange(8)
            width = 10 + random.randrange(9)
            height = h // 2 + (random.randrange(h) // (2 if color == 2 else 3))
            _skyscraper(canvas, offset, width, height, False, color)
            offset += width // 2 if color == 2 else width + 1
    offset = -10
    while offset < canvas.width:
        offset += random.randrange(8)
        width = 5 + random.randrange(14)
        if width % 4:
            width += width % 3
        height = h // 3 + random.randrange(h) // 2
        _skyscraper(canvas, offset, width, height, True, 0)
        offset += width + 5


def lolwut6(cols: int, rows: int, version: str) -> bytes:
    canvas = Canvas(min(max(cols, 1), 1000), min(max(rows, 1), 1000), 3)
    skyline(canvas)
    lines = []
    for y in range(canvas.height):
        cells = "".join("\033[%s \033[0m" % _GRAYS[canvas.get(x, y)] for x in range(canvas.width))
        lines.append(cells)
    text = "\n".join(lines) + (
        "\nDedicated to the 8 bit game developers of past and present.\n"
        "Original 8 bit image from Plaguemon by hikikomori. Redis ver. %s\n" % version
    )
    return text.encode()
