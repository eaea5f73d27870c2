#!/usr/bin/env bash
# Renders REPORT_DIR/report.html (default: report) in headless Chromium to REPORT_DIR/report.png and checks it.
#
#   scripts/check-report.sh [REPORT_DIR]
#
# Fails (exit 1) when
#   - Chromium logs any console message for the page: the page has no scripts and its Content-Security-Policy
#     forbids scripts and fetches, so a console line means an injected script, a blocked fetch or a page error;
#   - the parsed DOM holds a <script> element, or lacks the report's sections or its SVG charts;
#   - report.png is missing, under 20 KB, or nearly blank (one colour over almost all pixels).
# Exit 2: bad usage, or no Chromium and no way to install it. Chromium is installed with apt-get (Debian package
# `chromium`) when missing and the script runs as root.
# The screenshot is the browser window (REPORT_WIDTH x REPORT_HEIGHT, default 1400 x 8000); when the page reaches
# the bottom edge the window height is doubled and the page shot again (up to 32000 px), then the PNG is cropped
# to the page's content — a full-page screenshot. CHROMIUM names the browser binary when it is not on PATH.
set -euo pipefail

dir="${1:-report}"
if [[ $# -gt 1 || "$dir" == "-h" || "$dir" == "--help" ]]; then
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
html="$dir/report.html"
png="$dir/report.png"
[[ -f "$html" ]] || { echo "check-report: $html not found" >&2; exit 1; }
width="${REPORT_WIDTH:-1400}"
height="${REPORT_HEIGHT:-8000}"

find_browser() {
    if [[ -n "${CHROMIUM:-}" ]]; then echo "$CHROMIUM"; return 0; fi
    local candidate
    for candidate in chromium chromium-browser google-chrome-stable google-chrome; do
        if command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; return 0; fi
    done
    return 1
}

if ! browser="$(find_browser)"; then
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "check-report: installing chromium with apt-get" >&2
        started=$SECONDS
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
        echo "check-report: chromium installed in $((SECONDS - started)) s" >&2
        browser="$(find_browser)" || { echo "check-report: chromium still not found after install" >&2; exit 2; }
    else
        echo "check-report: no Chromium found (set CHROMIUM, or run as root with apt-get to install it)" >&2
        exit 2
    fi
fi

page="file://$(cd "$dir" && pwd)/report.html"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --no-default-browser-check
       --disable-extensions --disable-background-networking --user-data-dir="$work/profile")

status=0
fail() { echo "check-report: FAIL: $*" >&2; status=1; }

# The screenshot is the window; the PNG is checked and cropped to the page's content by this Python step (exit 0 ok,
# 1 nearly blank, 3 the page reaches the bottom edge: the window was too short).
cat >"$work/png_check.py" <<'PY'
import struct, sys, zlib

def decode(path):
    """Width, height, channels and rows (bytearrays) of an 8-bit non-interlaced RGB/RGBA PNG (Chromium's kind)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace:
        raise ValueError("unsupported PNG layout (depth %d, colour type %d)" % (depth, colour))
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    try:
        import numpy as np
    except ImportError:
        np = None
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 255
        elif kind == 2:
            if np is not None:
                line = bytearray((np.frombuffer(line, np.uint8) + np.frombuffer(previous, np.uint8)).tobytes())
            else:
                line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        previous = line
    return width, height, channels, rows

def encode(path, width, channels, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, len(rows), 8, {3: 2, 4: 6}[channels], 0, 0, 0)
    body = zlib.compress(b"".join(b"\x00" + bytes(line) for line in rows), 9)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))

path = sys.argv[1]
width, height, channels, rows = decode(path)
counts = {}
for line in rows[::2]:
    for x in range(0, width * channels, channels * 3):  # every third pixel of every other row is plenty
        key = bytes(line[x:x + 3])
        counts[key] = counts.get(key, 0) + 1
total = sum(counts.values())
distinct = len(counts)
coverage = 1 - max(counts.values()) / total
# The page's content ends at the last row that differs from the bottom row (the page background).
bottom = rows[-1]
uniform = lambda line: line == bottom and all(line[x:x + 3] == line[0:3] for x in range(0, len(line), channels))
last = height
while last > 0 and uniform(rows[last - 1]):
    last -= 1
print("check-report: %dx%d screenshot, content %d px high, %d colours, %.1f%% of pixels not the most common colour"
      % (width, height, last, distinct, 100 * coverage), file=sys.stderr)
if distinct < 16 or coverage < 0.02:
    print("check-report: FAIL: the screenshot is nearly blank", file=sys.stderr)
    sys.exit(1)
if last >= height - 4:
    sys.exit(3)
encode(path, width, channels, rows[:min(height, last + 24)])
PY

rm -f "$png"
started=$SECONDS
while :; do
    "$browser" "${flags[@]}" --window-size="$width,$height" --screenshot="$png" \
        --enable-logging=stderr --v=0 "$page" >"$work/screenshot.out" 2>"$work/screenshot.log" || true
    [[ -f "$png" ]] && command -v python3 >/dev/null 2>&1 || break
    set +e
    python3 "$work/png_check.py" "$png"
    checked=$?
    set -e
    if [[ $checked -eq 3 && $height -lt 32000 ]]; then
        height=$((height * 2))
        echo "check-report: the page is taller than the window; again at $width x $height" >&2
        continue
    fi
    [[ $checked -eq 3 ]] && echo "check-report: warning: the page is taller than $height px; the screenshot is cut" >&2
    [[ $checked -eq 1 ]] && status=1
    break
done
"$browser" "${flags[@]}" --dump-dom "$page" >"$work/dom.html" 2>"$work/dom.log" || true
echo "check-report: rendered $html in $((SECONDS - started)) s with $("$browser" --version 2>/dev/null | head -1)" >&2

# Console output for the page (Chromium logs every console message as INFO:CONSOLE), uncaught errors, CSP blocks.
if grep -E ':CONSOLE|Uncaught|Content Security Policy' "$work/screenshot.log" "$work/dom.log" >"$work/console.txt"; then
    fail "Chromium logged console messages for the page:"
    sed 's/^/    /' "$work/console.txt" >&2
fi

# The parsed DOM: no script element; every section and some charts present.
if [[ ! -s "$work/dom.html" ]]; then
    fail "Chromium produced no DOM for the page"
else
    if grep -qi '<script' "$work/dom.html"; then fail "the page's DOM contains a <script> element"; fi
    for section in headline changes status health riskiest assets stress cascade rebalancing validation warnings run; do
        grep -q "<section id=\"$section\"" "$work/dom.html" || fail "section #$section is missing"
    done
    charts=$(grep -o '<svg' "$work/dom.html" | wc -l)
    [[ "$charts" -ge 1 ]] || fail "the page has no SVG chart"
fi

# The screenshot: present and not tiny (its colours were checked above).
if [[ ! -f "$png" ]]; then
    fail "Chromium wrote no screenshot ($png)"
    grep -v -i dbus "$work/screenshot.log" | tail -20 | sed 's/^/    /' >&2 || true
else
    size=$(wc -c <"$png")
    [[ "$size" -ge 20480 ]] || fail "$png is only $size bytes"
    command -v python3 >/dev/null 2>&1 || echo "check-report: warning: no python3, the screenshot's colours were not checked" >&2
fi

if [[ $status -eq 0 ]]; then echo "check-report: OK: $png" >&2; fi
exit $status
