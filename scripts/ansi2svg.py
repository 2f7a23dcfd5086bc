#!/usr/bin/env python3
"""ansi2svg: turn a terminal capture with ANSI SGR colours into a monospace SVG.

    tmux capture-pane -e -p -N -t PANE > screen.ans
    scripts/ansi2svg.py screen.ans -o screen.svg [--cols 120 --rows 36] [--title "..."]

Python standard library only.

What it understands (everything else in the input is skipped):
  * SGR (ESC [ ... m): 0 reset, 1 bold, 2 dim, 3 italic, 4 underline (4:n too), 7 reverse,
    8 hidden, 9 strike, 21/22/23/24/27/28/29 their resets, 30-37/90-97 and 40-47/100-107
    (16 colours), 38;5;n / 48;5;n (256 colours), 38;2;r;g;b / 48;2;r;g;b (truecolor; the
    colon forms 38:2::r:g:b and 38:5:n too), 39/49 default fg/bg, 58/59 underline colour
    (parsed and ignored).  The style carries across lines, as tmux writes it.
  * Other CSI, OSC (ESC ] ... BEL / ESC \\) and lone ESC sequences are dropped.
  * Wide (East Asian W/F) characters take two cells; combining marks join the previous cell.

How it draws, so that the grid lines up whatever font the viewer has:
  * one background <rect> for the screen (default #1a1b26) plus one <rect> per run of
    cells with the same non-default background on a row;
  * block elements (U+2580-259F: eighth blocks, halves, quadrants, shades), braille
    (U+2800-28FF) and box-drawing lines (U+2500-257F: light/heavy/double/rounded/dashed)
    are drawn as geometry on the cell grid, not as glyphs, so bars and borders join exactly;
  * all other text is one <text> per run of same-style cells, xml:space="preserve",
    with textLength = cells x cell width, so each run occupies exactly its cells.
"""
import argparse
import html
import re
import sys
import unicodedata

DEFAULT_FG = (0xC0, 0xCA, 0xF5)
DEFAULT_BG = (0x1A, 0x1B, 0x26)
# 16-colour palette (Tokyo Night terminal colours, matching the default fg/bg).
PALETTE16 = [
    (0x15, 0x16, 0x1E), (0xF7, 0x76, 0x8E), (0x9E, 0xCE, 0x6A), (0xE0, 0xAF, 0x68),
    (0x7A, 0xA2, 0xF7), (0xBB, 0x9A, 0xF7), (0x7D, 0xCF, 0xFF), (0xA9, 0xB1, 0xD6),
    (0x41, 0x48, 0x68), (0xFF, 0x89, 0x9D), (0xAF, 0xE0, 0x7B), (0xFA, 0xBA, 0x4A),
    (0x8D, 0xB0, 0xFF), (0xC7, 0xA9, 0xFF), (0xA4, 0xDA, 0xFF), (0xC0, 0xCA, 0xF5),
]
FONT_FAMILY = ("'JetBrains Mono','Cascadia Mono','SF Mono',Menlo,Consolas,"
               "'DejaVu Sans Mono','Liberation Mono','Noto Sans Mono',monospace")


def color256(n):
    n = max(0, min(255, n))
    if n < 16:
        return PALETTE16[n]
    if n < 232:
        n -= 16
        steps = (0, 95, 135, 175, 215, 255)
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return (v, v, v)


def hexc(c):
    return "#%02x%02x%02x" % c


def blend(a, b, t):
    """a*(1-t) + b*t"""
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b))


class Style:
    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "strike", "reverse", "hidden")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None  # None = default, else (r,g,b)
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = False
        self.strike = self.reverse = self.hidden = False

    def key(self):
        return (self.fg, self.bg, self.bold, self.dim, self.italic, self.underline,
                self.strike, self.reverse, self.hidden)

    def copy(self):
        s = Style.__new__(Style)
        for k in Style.__slots__:
            setattr(s, k, getattr(self, k))
        return s

    def resolved(self):
        """(fg, bg, bg_is_default) after reverse and dim."""
        fg = self.fg if self.fg is not None else DEFAULT_FG
        bg = self.bg if self.bg is not None else DEFAULT_BG
        bg_default = self.bg is None
        if self.reverse:
            fg, bg = bg, fg
            bg_default = False
        if self.dim:
            fg = blend(fg, bg, 0.45)
        return fg, bg, bg_default


def _ext_color(params, i):
    """Parse 38/48/58 extended colour starting at params[i] (the 38).  Returns (colour, next_i).
    params is a list of lists (colon sub-parameters)."""
    sub = params[i]
    if len(sub) > 1:  # colon form: 38:5:n or 38:2:[cs]:r:g:b
        kind = _int(sub[1])
        if kind == 5 and len(sub) >= 3:
            return color256(_int(sub[2])), i + 1
        if kind == 2:
            rgb = sub[2:]
            if len(rgb) >= 4:  # colour-space id present (possibly empty)
                rgb = rgb[1:4]
            if len(rgb) >= 3:
                return tuple(max(0, min(255, _int(x))) for x in rgb[:3]), i + 1
        return None, i + 1
    # semicolon form
    if i + 1 < len(params):
        kind = _int(params[i + 1][0])
        if kind == 5 and i + 2 < len(params):
            return color256(_int(params[i + 2][0])), i + 3
        if kind == 2 and i + 4 < len(params):
            return tuple(max(0, min(255, _int(params[i + k][0]))) for k in (2, 3, 4)), i + 5
    return None, len(params)


def _int(s):
    try:
        return int(s) if s != "" else 0
    except ValueError:
        return 0


def apply_sgr(st, paramstr):
    if paramstr == "":
        st.reset()
        return
    params = [p.split(":") for p in paramstr.split(";")]
    i = 0
    while i < len(params):
        sub = params[i]
        p = _int(sub[0])
        if p == 0:
            st.reset()
        elif p == 1:
            st.bold = True
        elif p == 2:
            st.dim = True
        elif p == 3:
            st.italic = True
        elif p == 4:
            st.underline = not (len(sub) > 1 and _int(sub[1]) == 0)
        elif p == 7:
            st.reverse = True
        elif p == 8:
            st.hidden = True
        elif p == 9:
            st.strike = True
        elif p == 21:
            st.underline = True  # double underline
        elif p == 22:
            st.bold = st.dim = False
        elif p == 23:
            st.italic = False
        elif p == 24:
            st.underline = False
        elif p == 27:
            st.reverse = False
        elif p == 28:
            st.hidden = False
        elif p == 29:
            st.strike = False
        elif 30 <= p <= 37:
            st.fg = PALETTE16[p - 30]
        elif 40 <= p <= 47:
            st.bg = PALETTE16[p - 40]
        elif 90 <= p <= 97:
            st.fg = PALETTE16[p - 90 + 8]
        elif 100 <= p <= 107:
            st.bg = PALETTE16[p - 100 + 8]
        elif p == 39:
            st.fg = None
        elif p == 49:
            st.bg = None
        elif p in (38, 48, 58):
            c, i = _ext_color(params, i)
            if c is not None:
                if p == 38:
                    st.fg = c
                elif p == 48:
                    st.bg = c
            continue
        # 5/6 blink, 53 overline, 59 underline colour reset, others: ignored
        i += 1


TOKEN = re.compile(
    r"\x1b\[([0-9;:?<=>]*)([ -/]*)([@-~])"      # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"       # OSC
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"            # DCS/SOS/PM/APC
    r"|\x1b[()*+][0-9A-Za-z]"                     # charset designation
    r"|\x1b."                                     # other two-byte escapes
    r"|([^\x1b]+)", re.S)


def cell_width(ch):
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def parse(text):
    """-> list of rows; each row a list of cells (char, Style) ; wide chars are followed by a
    (None, style) continuation cell."""
    rows = [[]]
    st = Style()
    for m in TOKEN.finditer(text.replace("\r\n", "\n")):
        if m.group(3) is not None:
            if m.group(3) == "m" and not m.group(2) and not (m.group(1) or "").startswith(("?", "<", "=", ">")):
                apply_sgr(st, m.group(1) or "")
            continue
        chunk = m.group(4)
        if chunk is None:
            continue
        for ch in chunk:
            if ch == "\n":
                rows.append([])
                continue
            if ch == "\t":
                row = rows[-1]
                for _ in range(8 - len(row) % 8):
                    row.append((" ", st.copy()))
                continue
            if ch == "\r" or ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or ch in "\ufffe\uffff":
                continue
            w = cell_width(ch)
            row = rows[-1]
            if w == 0:
                if row:
                    c, s = row[-1] if row[-1][0] is not None else row[-2]
                    idx = -1 if row[-1][0] is not None else -2
                    row[idx] = (c + ch, s)
                continue
            s = st.copy()
            row.append((ch, s))
            if w == 2:
                row.append((None, s))
    if rows and not rows[-1]:
        rows.pop()  # trailing newline
    return rows


# ----------------------------------------------------------------------------- geometry
def block_rects(cp):
    """Block elements U+2580..U+259F -> list of (x0, y0, x1, y1, alpha) in cell fractions."""
    e = 1 / 8
    if cp == 0x2580:
        return [(0, 0, 1, .5, 1)]
    if 0x2581 <= cp <= 0x2588:
        n = cp - 0x2580
        return [(0, 1 - n * e, 1, 1, 1)]
    if 0x2589 <= cp <= 0x258F:
        n = 0x2590 - cp  # 2589 -> 7 eighths ... 258F -> 1 eighth
        return [(0, 0, n * e, 1, 1)]
    if cp == 0x2590:
        return [(.5, 0, 1, 1, 1)]
    if 0x2591 <= cp <= 0x2593:
        return [(0, 0, 1, 1, (cp - 0x2590) * 0.25)]
    if cp == 0x2594:
        return [(0, 0, 1, e, 1)]
    if cp == 0x2595:
        return [(1 - e, 0, 1, 1, 1)]
    q = {0x2596: "3", 0x2597: "4", 0x2598: "1", 0x2599: "134", 0x259A: "14", 0x259B: "123",
         0x259C: "124", 0x259D: "2", 0x259E: "23", 0x259F: "234"}.get(cp)
    if q:
        quad = {"1": (0, 0, .5, .5, 1), "2": (.5, 0, 1, .5, 1), "3": (0, .5, .5, 1, 1), "4": (.5, .5, 1, 1, 1)}
        return [quad[k] for k in q]
    return None


def braille_dots(cp):
    bits = cp - 0x2800
    pos = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]
    return [pos[k] for k in range(8) if bits & (1 << k)]


# Box drawing: char -> (up, right, down, left) with 0 none, 1 light, 2 heavy, 3 double.
_BOX = {}


def _box(chars, arms):
    for c in chars:
        _BOX[c] = arms


_box("─┄┈╌", (0, 1, 0, 1)); _box("━┅┉╍", (0, 2, 0, 2))
_box("│┆┊╎", (1, 0, 1, 0)); _box("┃┇┋╏", (2, 0, 2, 0))
_box("┌╭", (0, 1, 1, 0)); _box("┐╮", (0, 0, 1, 1)); _box("└╰", (1, 1, 0, 0)); _box("┘╯", (1, 0, 0, 1))
_box("┏", (0, 2, 2, 0)); _box("┓", (0, 0, 2, 2)); _box("┗", (2, 2, 0, 0)); _box("┛", (2, 0, 0, 2))
_box("┍", (0, 2, 1, 0)); _box("┎", (0, 1, 2, 0)); _box("┑", (0, 0, 1, 2)); _box("┒", (0, 0, 2, 1))
_box("┕", (1, 2, 0, 0)); _box("┖", (2, 1, 0, 0)); _box("┙", (1, 0, 0, 2)); _box("┚", (2, 0, 0, 1))
_box("├", (1, 1, 1, 0)); _box("┤", (1, 0, 1, 1)); _box("┬", (0, 1, 1, 1)); _box("┴", (1, 1, 0, 1))
_box("┼", (1, 1, 1, 1)); _box("┣", (2, 2, 2, 0)); _box("┫", (2, 0, 2, 2)); _box("┳", (0, 2, 2, 2))
_box("┻", (2, 2, 0, 2)); _box("╋", (2, 2, 2, 2))
_box("┝", (1, 2, 1, 0)); _box("┥", (1, 0, 1, 2)); _box("┯", (0, 2, 1, 2)); _box("┷", (1, 2, 0, 2))
_box("┠", (2, 1, 2, 0)); _box("┨", (2, 0, 2, 1)); _box("┰", (0, 1, 2, 1)); _box("┸", (2, 1, 0, 1))
_box("┿", (1, 2, 1, 2)); _box("╂", (2, 1, 2, 1))
_box("═", (0, 3, 0, 3)); _box("║", (3, 0, 3, 0)); _box("╔", (0, 3, 3, 0)); _box("╗", (0, 0, 3, 3))
_box("╚", (3, 3, 0, 0)); _box("╝", (3, 0, 0, 3)); _box("╠", (3, 3, 3, 0)); _box("╣", (3, 0, 3, 3))
_box("╦", (0, 3, 3, 3)); _box("╩", (3, 3, 0, 3)); _box("╬", (3, 3, 3, 3))
_box("╒", (0, 3, 1, 0)); _box("╓", (0, 1, 3, 0)); _box("╕", (0, 0, 1, 3)); _box("╖", (0, 0, 3, 1))
_box("╘", (1, 3, 0, 0)); _box("╙", (3, 1, 0, 0)); _box("╛", (1, 0, 0, 3)); _box("╜", (3, 0, 0, 1))
_box("╞", (1, 3, 1, 0)); _box("╟", (3, 1, 3, 0)); _box("╡", (1, 0, 1, 3)); _box("╢", (3, 0, 3, 1))
_box("╤", (0, 3, 1, 3)); _box("╥", (0, 1, 3, 1)); _box("╧", (1, 3, 0, 3)); _box("╨", (3, 1, 0, 1))
_box("╪", (1, 3, 1, 3)); _box("╫", (3, 1, 3, 1))
_box("╴", (0, 0, 0, 1)); _box("╵", (1, 0, 0, 0)); _box("╶", (0, 1, 0, 0)); _box("╷", (0, 0, 1, 0))
_box("╸", (0, 0, 0, 2)); _box("╹", (2, 0, 0, 0)); _box("╺", (0, 2, 0, 0)); _box("╻", (0, 0, 2, 0))
_box("╼", (0, 2, 0, 1)); _box("╽", (1, 0, 2, 0)); _box("╾", (0, 1, 0, 2)); _box("╿", (2, 0, 1, 0))
ROUNDED = set("╭╮╯╰")
DASHED = {c: n for n, cs in ((3, "┄┅┆┇"), (4, "┈┉┊┋"), (2, "╌╍╎╏")) for c in cs}


def is_shape(ch):
    if ch is None or len(ch) != 1:
        return False
    cp = ord(ch)
    return (0x2580 <= cp <= 0x259F) or (0x2800 < cp <= 0x28FF) or ch in _BOX


# ----------------------------------------------------------------------------- SVG
def f(v):
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return s if s != "-0" else "0"


def render(rows, cols=None, nrows=None, font_size=14.0, cell_w=None, cell_h=None, pad=12, title=None):
    cw = cell_w or round(font_size * 0.6, 2)
    chh = cell_h or round(font_size * 1.25, 2)
    ncols = cols or max((len(r) for r in rows), default=0)
    nrows = nrows or len(rows)
    rows = [r[:ncols] for r in rows[:nrows]]
    W = ncols * cw + 2 * pad
    H = nrows * chh + 2 * pad
    base = chh * 0.5 + font_size * 0.35  # baseline: glyph centred in the cell
    lw1 = max(1.0, round(font_size / 14, 2))  # light line width

    out = []
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{f(W)}" height="{f(H)}" '
               f'viewBox="0 0 {f(W)} {f(H)}" font-family="{html.escape(FONT_FAMILY, quote=False)}" '
               f'font-size="{f(font_size)}">')
    if title:
        out.append(f"<title>{html.escape(title, quote=False)}</title>")
    out.append(f'<rect width="100%" height="100%" rx="6" fill="{hexc(DEFAULT_BG)}"/>')
    out.append(f'<g transform="translate({pad},{pad})">')

    # 1. backgrounds
    bgs = []
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            fg, bg, bgdef = row[x][1].resolved()
            x1 = x + 1
            while x1 < len(row):
                _, bg2, bgdef2 = row[x1][1].resolved()
                if bg2 != bg or bgdef2 != bgdef:
                    break
                x1 += 1
            if not bgdef and bg != DEFAULT_BG:
                bgs.append(f'<rect x="{f(x * cw)}" y="{f(y * chh)}" width="{f((x1 - x) * cw)}" '
                           f'height="{f(chh)}" fill="{hexc(bg)}"/>')
            x = x1
    if bgs:
        out.append('<g shape-rendering="crispEdges">')
        out.extend(bgs)
        out.append("</g>")

    # 2. shapes: block elements and braille as filled paths, box lines as stroked paths
    fills = {}    # (colour, alpha) -> [path data]
    strokes = {}  # (colour, width, dash) -> [path data]
    for y, row in enumerate(rows):
        for x, (ch, st) in enumerate(row):
            if not is_shape(ch) or st.hidden:
                continue
            fg, _, _ = st.resolved()
            cp = ord(ch)
            X, Y = x * cw, y * chh
            if 0x2580 <= cp <= 0x259F:
                for x0, y0, x1, y1, a in block_rects(cp):
                    fills.setdefault((fg, a), []).append(
                        f"M{f(X + x0 * cw)} {f(Y + y0 * chh)}h{f((x1 - x0) * cw)}v{f((y1 - y0) * chh)}h{f(-(x1 - x0) * cw)}z")
            elif 0x2800 < cp <= 0x28FF:
                d = min(cw / 2, chh / 4) * 0.62
                for dx, dy in braille_dots(cp):
                    cx = X + (dx + 0.5) * cw / 2
                    cy = Y + (dy + 0.5) * chh / 4
                    fills.setdefault((fg, 1), []).append(
                        f"M{f(cx - d / 2)} {f(cy - d / 2)}h{f(d)}v{f(d)}h{f(-d)}z")
            else:
                up, rt, dn, lf = _BOX[ch]
                cx, cy = X + cw / 2, Y + chh / 2
                dash = DASHED.get(ch)
                if ch in ROUNDED:
                    r = min(cw, chh) / 2
                    # two arms joined by a quarter arc
                    ex = X + cw if rt else X
                    ey = Y + chh if dn else Y
                    sx = 1 if rt else -1
                    sy = 1 if dn else -1
                    sweep = 1 if (sx * sy) < 0 else 0
                    dpath = (f"M{f(ex)} {f(cy)}H{f(cx + sx * r)}"
                             f"A{f(r)} {f(r)} 0 0 {sweep} {f(cx)} {f(cy + sy * r)}V{f(ey)}")
                    strokes.setdefault((fg, lw1, None), []).append(dpath)
                    continue
                for arm, (ax, ay) in zip((up, rt, dn, lf), ((cx, Y), (X + cw, cy), (cx, Y + chh), (X, cy))):
                    if not arm:
                        continue
                    vertical = ax == cx
                    # extend to the centre by half the widest crossing line so joins are closed
                    ext = lw1 * (1.5 if max(up, rt, dn, lf) >= 2 else 0.5)
                    if arm == 3:
                        off = lw1 * 1.2
                        for o in (-off, off):
                            if vertical:
                                strokes.setdefault((fg, lw1, dash), []).append(
                                    f"M{f(cx + o)} {f(ay)}V{f(cy + (ext + off if ay < cy else -(ext + off)))}")
                            else:
                                strokes.setdefault((fg, lw1, dash), []).append(
                                    f"M{f(ax)} {f(cy + o)}H{f(cx + (ext + off if ax < cx else -(ext + off)))}")
                        continue
                    w = lw1 if arm == 1 else lw1 * 2
                    if vertical:
                        path = f"M{f(cx)} {f(ay)}V{f(cy + (ext if ay < cy else -ext))}"
                    else:
                        path = f"M{f(ax)} {f(cy)}H{f(cx + (ext if ax < cx else -ext))}"
                    strokes.setdefault((fg, w, dash), []).append(path)
    for (col, a), ds in fills.items():
        op = "" if a == 1 else f' fill-opacity="{f(a)}"'
        out.append(f'<path shape-rendering="crispEdges" fill="{hexc(col)}"{op} d="{"".join(ds)}"/>')
    for (col, w, dash), ds in strokes.items():
        da = ""
        if dash:
            seg = cw / dash
            da = f' stroke-dasharray="{f(seg * 0.6)} {f(seg * 0.4)}"'
        out.append(f'<path fill="none" stroke="{hexc(col)}" stroke-width="{f(w)}"{da} d="{"".join(ds)}"/>')

    # 3. text runs
    for y, row in enumerate(rows):
        x = 0
        while x < len(row):
            ch, st = row[x]
            if ch is None or is_shape(ch) or st.hidden:
                x += 1
                continue
            k = st.key()
            x1 = x
            buf = []  # (cell text, width in cells)
            while x1 < len(row):
                c2, s2 = row[x1]
                if c2 is None:  # continuation cell of a wide char already in this run
                    if s2.key() == k and buf:
                        buf[-1] = (buf[-1][0], 2)
                        x1 += 1
                        continue
                    break
                if is_shape(c2) or s2.key() != k:
                    break
                buf.append((c2, 1))
                x1 += 1
            # trim blank cells at both ends (backgrounds are already drawn) unless decorated
            lead = 0
            if not (st.underline or st.strike):
                while buf and buf[-1][0] == " ":
                    buf.pop()
                while lead < len(buf) and buf[lead][0] == " ":
                    lead += 1
            cells_before = sum(w for _, w in buf[:lead])
            buf = buf[lead:]
            if buf:
                txt2 = "".join(c for c, _ in buf)
                cells = sum(w for _, w in buf)
                fg, _, _ = st.resolved()
                attrs = [f'x="{f((x + cells_before) * cw)}"', f'y="{f(y * chh + base)}"', f'fill="{hexc(fg)}"']
                if st.bold:
                    attrs.append('font-weight="bold"')
                if st.italic:
                    attrs.append('font-style="italic"')
                deco = [d for d, on in (("underline", st.underline), ("line-through", st.strike)) if on]
                if deco:
                    attrs.append(f'text-decoration="{" ".join(deco)}"')
                if cells > 1:
                    attrs.append(f'textLength="{f(cells * cw)}"')
                out.append(f'<text xml:space="preserve" {" ".join(attrs)}>{html.escape(txt2, quote=False)}</text>')
            x = x1
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", nargs="?", default="-", help="ANSI text (default stdin)")
    ap.add_argument("-o", "--output", default="-", help="SVG file (default stdout)")
    ap.add_argument("--cols", type=int, help="grid width in cells (default: longest line)")
    ap.add_argument("--rows", type=int, help="grid height in cells (default: number of lines)")
    ap.add_argument("--font-size", type=float, default=14.0)
    ap.add_argument("--cell-width", type=float, help="default 0.6 x font size")
    ap.add_argument("--cell-height", type=float, help="default 1.25 x font size")
    ap.add_argument("--pad", type=float, default=12)
    ap.add_argument("--title", help="SVG <title> (accessible name)")
    a = ap.parse_args()
    if a.input == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(a.input, "rb") as fh:
            data = fh.read()
    text = data.decode("utf-8", errors="replace")
    svg = render(parse(text), a.cols, a.rows, a.font_size, a.cell_width, a.cell_height, a.pad, a.title)
    if a.output == "-":
        sys.stdout.write(svg)
    else:
        with open(a.output, "w", encoding="utf-8") as fh:
            fh.write(svg)


if __name__ == "__main__":
    main()
