"""The drill's HTML report: one self-contained page (inline CSS and SVG, no external assets).

The timeline plots every write's latency (log scale) against time since the fault, failed
writes as red ticks along the top, and the drill's milestones (fault, first +sdown, +odown,
+switch-master, writes resumed, healthy again) as labelled vertical lines; every other sentinel
event is a faint line whose tooltip names it.
"""

import html
import json
import math
import time

W, H = 960, 380
LEFT, RIGHT, TOP, BOTTOM = 64, 20, 84, 40
MIN_MS, MAX_MS = 0.1, 10_000.0
COLORS = {"ok": "#2a9d3a", "error": "#d62728", "timeout": "#ff7f0e"}


class Scale:
    def __init__(self, t_min: float, t_max: float):
        self.t_min, self.t_max = t_min, max(t_max, t_min + 1e-3)

    def x(self, t: float) -> float:
        return LEFT + (t - self.t_min) / (self.t_max - self.t_min) * (W - LEFT - RIGHT)

    @staticmethod
    def y(ms: float) -> float:
        ms = min(max(ms, MIN_MS), MAX_MS)
        frac = (math.log10(ms) - math.log10(MIN_MS)) / (math.log10(MAX_MS) - math.log10(MIN_MS))
        return H - BOTTOM - frac * (H - TOP - BOTTOM)


def milestones(result: dict) -> list:
    t = result["timings"]
    marks = [("fault", 0.0), ("+sdown", t["sdown_s"]), ("+odown", t["odown_s"]), ("+switch-master", t["switch_master_s"]), ("writes resumed", t["writes_resumed_s"]), ("healthy", t.get("healthy_s"))]
    return [(label, value) for label, value in marks if value is not None]


def axes(scale: Scale) -> list:
    out = ['<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>' % (LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM)]
    for ms in (0.1, 1, 10, 100, 1000, 10000):
        y = scale.y(ms)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/><text x="%d" y="%.1f" text-anchor="end" class="ax">%s ms</text>' % (LEFT, y, W - RIGHT, y, LEFT - 4, y + 4, ("%g" % ms)))
    step = nice_step(scale.t_max - scale.t_min)
    t = math.ceil(scale.t_min / step) * step
    while t <= scale.t_max:
        out.append('<text x="%.1f" y="%d" text-anchor="middle" class="ax">%gs</text>' % (scale.x(t), H - BOTTOM + 16, round(t, 3)))
        t += step
    out.append('<text x="%d" y="%d" text-anchor="middle" class="ax">seconds since the fault</text>' % ((LEFT + W - RIGHT) // 2, H - 6))
    return out


def nice_step(span: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, 60, 120):
        if span / step <= 12:
            return step
    return 300


def plot_writes(scale: Scale, writes, t0: float) -> list:
    out = []
    for w in writes:
        x = scale.x(w.start - t0)
        if w.outcome == "ok":
            out.append('<circle cx="%.1f" cy="%.1f" r="1.5" fill="%s"/>' % (x, scale.y((w.end - w.start) * 1000), COLORS["ok"]))
        else:
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"><title>%s</title></line>' % (x, TOP - 18, x, TOP - 6, COLORS[w.outcome], html.escape(w.error[:120])))
    return out


def plot_events(scale: Scale, result: dict) -> list:
    out = []
    for e in result["events"]:
        if e["event"].startswith(("+", "-")):
            x = scale.x(e["t"])
            out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#bbb" stroke-width="0.5"><title>%s</title></line>' % (x, TOP, x, H - BOTTOM, html.escape("%.3fs %s %s %s" % (e["t"], e["sentinel"], e["event"], e["payload"]))))
    rows = []  # per label row, the x where its last label ends
    for label, t in milestones(result):
        text = "%s %.2fs" % (label, t)
        x = scale.x(t)
        # Labels near the right edge extend leftwards, so they stay on the page.
        right = x > W - 160
        left_edge = x - 7 * len(text) if right else x
        row = next((i for i, end in enumerate(rows) if end < left_edge), len(rows))
        rows[row:row + 1] = [x if right else x + 7 * len(text) + 6]
        y = 14 + (row % 4) * 14
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-dasharray="4 3"/>' % (x, y + 3, x, H - BOTTOM))
        out.append('<text x="%.1f" y="%d" text-anchor="%s" class="ms">%s</text>' % (x - 3 if right else x + 3, y, "end" if right else "start", html.escape(text)))
    return out


def svg(result: dict, writes, t0: float) -> str:
    times = [w.start - t0 for w in writes] + [e["t"] for e in result["events"]] + [v for _, v in milestones(result)]
    scale = Scale(min(times, default=0.0), max(times, default=1.0))
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">' % (W, H, W, H)]
    parts.append("<style>.ax{font:11px sans-serif;fill:#555}.ms{font:bold 11px sans-serif;fill:#222}</style>")
    parts.append('<text x="%d" y="%d" text-anchor="end" class="ax">failed</text>' % (LEFT - 4, TOP - 8))
    parts.append('<text x="12" y="%d" transform="rotate(-90 12 %d)" text-anchor="middle" class="ax">write latency</text>' % ((TOP + H - BOTTOM) // 2, (TOP + H - BOTTOM) // 2))
    parts += axes(scale) + plot_events(scale, result) + plot_writes(scale, writes, t0)
    parts.append("</svg>")
    return "\n".join(parts)


def summary_rows(result: dict) -> list:
    t, w = result["timings"], result["writes"]
    s = lambda v: "-" if v is None else "%.3f s" % v  # noqa: E731
    return [
        ("fault", result["action"]),
        ("master", "%s &rarr; %s" % (result["master_before"], result["master_after"])),
        ("first +sdown", s(t["sdown_s"])),
        ("first +odown", s(t["odown_s"])),
        ("+switch-master", s(t["switch_master_s"])),
        ("writes resumed", s(t["writes_resumed_s"])),
        ("unavailable", s(t["unavailable_s"])),
        ("longest gap between acks", s(t["longest_gap_s"])),
        ("healthy again", s(t.get("healthy_s"))),
        ("writes", "%d attempted, %d acknowledged, %d failed (%d timeouts)" % (w["attempted"], w["acknowledged"], w["failed"], w["timeouts"])),
        ("acknowledged writes lost", str(w.get("lost", "?"))),
        ("cluster healthy", "yes" if result["healthy"] else "no: " + "; ".join(result["problems"])),
    ]


def page(result: dict, writes, t0: float) -> str:
    title = "triokv drill %s (%s)" % (result["kind"], result["impl"])
    rows = "".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k), v if k == "master" else html.escape(v)) for k, v in summary_rows(result))
    events = "".join("<tr><td>%.3f</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (e["t"], html.escape(e["sentinel"]), html.escape(e["event"]), html.escape(e["payload"])) for e in result["events"])
    return """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>%s</title>
<style>body{font:14px sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
th,td{text-align:left;padding:2px 10px;border-bottom:1px solid #eee;vertical-align:top}th{font-weight:600}</style></head>
<body><h1>%s</h1><p>%s, fault injected at %s. Dots: acknowledged writes (latency); ticks at the top: failed writes
(red: error, orange: timeout); dashed lines: milestones; grey lines: other sentinel events (hover for details).</p>
<table>%s</table>
%s
<h2>Sentinel events</h2><table><tr><th>t (s)</th><th>sentinel</th><th>event</th><th>payload</th></tr>%s</table>
<h2>Result (JSON)</h2><pre>%s</pre>
</body></html>
""" % (html.escape(title), html.escape(title), html.escape(result["master_name"]), html.escape(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(result["fault_at"]))), rows, svg(result, writes, t0), events, html.escape(json.dumps({k: v for k, v in result.items() if k != "events"}, indent=2)))


def write(path: str, result: dict, writes, t0: float):
    with open(path, "w", encoding="utf-8") as f:
        f.write(page(result, writes, t0))
