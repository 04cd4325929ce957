"""The class report as one self-contained HTML page: styles inline, charts as data: URIs with alternative text.

It opens from a file, with no server and nothing fetched from the network.
"""

from __future__ import annotations

import base64
import datetime
from html import escape

from autograder.units import format_bytes

from .class_summary import ATTENTION_RULE, NEAR_MISS, ClassSummary, ExerciseSummary
from .report_plot import chart_alt, chart_png

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #212121; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.low { color: #c62828; font-weight: 600; } .note { color: #555; max-width: 60em; }
img { max-width: 100%; height: auto; } code { font-size: 0.92em; }
"""
LOW_PASS_RATE = 0.5  # pass rates under this are highlighted


def render(summary: ClassSummary) -> str:
    """The whole page."""
    title = f"Class report: {summary.assignment}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1>{escape(title)}</h1>", _overview(summary), _exercise_table(summary),
        *[_exercise_section(e) for e in summary.exercises if not e.is_quiz], _quiz_section(summary),
        _attention(summary), _students(summary), "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def _overview(summary: ClassSummary) -> str:
    submitted = summary.submitted
    scores = [s.score for s in submitted if s.score is not None]
    mean = f"{sum(scores) / len(scores):.1f} of {summary.max_score:g}" if scores else "none yet"
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        f'<p>{len(submitted)} of {len(summary.students)} students in the gradebook submitted; mean score {mean}. '
        f"Written {escape(when)} from the gradebook and the check records of the autograded notebooks.</p>"
        '<p class="note">An exercise is <em>passed</em> when every check of it that ran passed and none of its test '
        "cells failed otherwise; a check that never ran (an earlier check of its cell failed) is not passed. "
        f"Pass rates are of the students who submitted. A <em>near miss</em> is a failure within "
        f"{NEAR_MISS - 1:.0%} of its target: many near misses, or a reference close to its target, suggest a target "
        "that is too tight; failures far above the target, near the naive solution, are the waste the check is "
        "there to catch.</p>"
    )


def _rate(rate: float) -> str:
    cls = ' class="num low"' if rate < LOW_PASS_RATE else ' class="num"'
    return f"<td{cls}>{rate:.0%}</td>"


def _exercise_table(summary: ClassSummary) -> str:
    rows = []
    for e in summary.exercises:
        mean = "" if e.mean_points is None else f"{e.mean_points:.2f}"
        rows.append(f'<tr><td><a href="#{_anchor(e.exercise)}">{escape(e.exercise)}</a></td>'
                    f'<td class="num">{len(e.passed)} of {e.submitted}</td>{_rate(e.pass_rate)}'
                    f'<td class="num">{mean} of {e.max_points:g}</td>'
                    f"<td>{escape(', '.join(c.check for c in e.checks))}</td></tr>")
    return ("<h2>Exercises</h2><table><thead><tr><th>exercise</th><th>passed</th><th>pass rate</th>"
            "<th>mean points</th><th>checks</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _bytes(value) -> str:
    return "" if value is None else format_bytes(value)


def _exercise_section(e: ExerciseSummary) -> str:
    out = [f'<h2 id="{_anchor(e.exercise)}">{escape(e.exercise)}</h2>',
           f"<p>Passed by {len(e.passed)} of {e.submitted} ({e.pass_rate:.0%}); test cells "
           f"{escape(', '.join(e.cells))}, {e.max_points:g} points.</p>"]
    rows = []
    for c in e.checks:
        rows.append(
            f"<tr><td>{escape(c.check)}</td><td class=\"num\">{c.reached}</td><td class=\"num\">{c.passed}</td>"
            f'<td class="num">{c.failed}</td><td class="num">{c.errors}</td>{_rate(c.pass_rate)}'
            f'<td class="num">{_bytes(c.median("measured"))}</td><td class="num">{_bytes(c.median("target"))}</td>'
            f'<td class="num">{_bytes(c.median("reference"))}</td><td class="num">{_bytes(c.median("naive"))}</td>'
            f'<td class="num">{c.near_misses if c.points else ""}</td></tr>')
    out.append("<table><thead><tr><th>check</th><th>reached</th><th>passed</th><th>failed</th><th>errors</th>"
               "<th>pass rate</th><th>measured (median)</th><th>target (median)</th><th>reference (median)</th>"
               "<th>naive (median)</th><th>near misses</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    png = chart_png(e)
    if png:
        data = base64.b64encode(png).decode("ascii")
        out.append(f'<figure><img src="data:image/png;base64,{data}" alt="{escape(chart_alt(e))}"></figure>')
    if e.failures:
        items = "".join(
            f"<tr><td class=\"num\">{len(g.students)}</td><td><code>{escape(g.template)}</code>"
            f"<br>for example: <code>{escape(g.example)}</code></td><td>{escape(', '.join(g.students))}</td></tr>"
            for g in e.failures)
        out.append("<h3>Most common failures</h3><table><thead><tr><th>students</th><th>first line (figures as …)"
                   "</th><th>who</th></tr></thead><tbody>" + items + "</tbody></table>")
        if e.other_failures:
            out.append(f"<p>{e.other_failures} more student(s) failed with other messages.</p>")
    return "\n".join(out)


def _quiz_section(summary: ClassSummary) -> str:
    rows = []
    for e in (e for e in summary.exercises if e.is_quiz):
        top = e.failures[0] if e.failures else None
        failure = (f"<code>{escape(top.example)}</code> ({len(top.students)} of {e.submitted})" if top else "")
        rows.append(f'<tr id="{_anchor(e.exercise)}"><td>{escape(e.exercise)}</td>'
                    f'<td class="num">{len(e.passed)} of {e.submitted}</td>{_rate(e.pass_rate)}<td>{failure}</td></tr>')
    if not rows:
        return ""
    return ("<h2>Quiz questions</h2><table><thead><tr><th>question</th><th>passed</th><th>pass rate</th>"
            "<th>most common failure</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _attention(summary: ClassSummary) -> str:
    rows = "".join(
        f"<tr><td>{escape(s.student)}</td><td class=\"num\">{_score(s)}</td>"
        f"<td><ul>{''.join(f'<li>{escape(r)}</li>' for r in s.reasons)}</ul></td></tr>"
        for s in summary.attention)
    table = ("<table><thead><tr><th>student</th><th>score</th><th>why</th></tr></thead><tbody>" + rows
             + "</tbody></table>") if rows else "<p>No student needs attention by this rule.</p>"
    return f'<h2 id="attention">Students who need attention</h2><p class="note">{escape(ATTENTION_RULE)}</p>{table}'


def _students(summary: ClassSummary) -> str:
    rows = "".join(
        f"<tr><td>{escape(s.student)}</td><td class=\"num\">{_score(s)}</td>"
        f"<td class=\"num\">{s.checks_passed}</td><td class=\"num\">{s.checks_failed}</td>"
        f"<td class=\"num\">{s.checks_errored}</td><td>{escape(', '.join(s.exercises_missed))}</td></tr>"
        for s in summary.students)
    return ("<h2>All students</h2><table><thead><tr><th>student</th><th>score</th><th>checks passed</th>"
            "<th>failed</th><th>errors</th><th>exercises not passed</th></tr></thead><tbody>" + rows
            + "</tbody></table>")


def _score(s) -> str:
    return "no submission" if not s.submitted else f"{s.score:g} of {s.max_score:g}"


def _anchor(name: str) -> str:
    return "exercise-" + "".join(ch if ch.isalnum() else "-" for ch in name)
