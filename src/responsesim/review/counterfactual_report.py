"""The counterfactual's part of the review report: the delay curve (PNG) and an HTML section (Jinja2)."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from responsesim.review.counterfactual import ASSUMPTIONS, CounterfactualResult
from responsesim.review.medical_change import MEDICAL_ASSUMPTION

__all__ = ["curve_png", "render_section"]

_ENV = Environment(
    loader=PackageLoader("responsesim.review", "templates"), autoescape=select_autoescape(["j2", "html"])
)


def curve_png(r: CounterfactualResult, path: Path) -> Path:
    """Lives saved (mean, 95% range of draws) and the responder's risk against the entry delay."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not r.units and r.medical is not None:
        return _care_png(r, path)
    c = r.curve
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=110)
    ax.fill_between(c.delay_s, c.low, c.high, color="#9ecae1", alpha=0.5, label="lives saved: 95% of draws")
    ax.plot(c.delay_s, c.lives_saved, "o-", color="#08519c", label="lives saved: mean")
    ax.set_xlabel("delay before the change (s after " + ("withdrawing" if any(
        u.divergence.event == "no_withdrawal" for u in r.units) else "arriving") + ")")  # fmt: skip
    ax.set_ylabel("lives saved (people)")
    ax.set_ylim(bottom=0)
    ax2 = ax.twinx()
    ax2.plot(c.delay_s, 100 * c.p_officer_shot, "s--", color="#a50f15", label="responder shot (% of draws)")
    ax2.set_ylabel("responder shot (% of draws)", color="#a50f15")
    ax2.set_ylim(0, 100)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper right")
    ax.set_title(
        f"{r.name}: {', '.join(d.text for d in r.divergences)} ({r.n:,} draws per delay)", fontsize=9
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _care_png(r: CounterfactualResult, path: Path) -> Path:
    """The medical counterfactual's curve: lives saved against when care reached the casualties."""
    import matplotlib.pyplot as plt

    assert r.medical is not None
    c = r.medical.curve
    fig, ax = plt.subplots(figsize=(7.5, 3.6), dpi=110)
    ax.fill_between(c.delay_s, c.low, c.high, color="#c7e9c0", alpha=0.6, label="lives saved: 95% of draws")
    ax.plot(c.delay_s, c.lives_saved, "o-", color="#006d2c", label="lives saved: mean")
    ax.set_xlabel("care reached the casualties (s after the recorded end of the attack)")
    ax.set_ylabel("lives saved (people)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(f"{r.name}: stopping the dying ({r.n:,} draws per delay)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def render_section(r: CounterfactualResult, png: Path | None) -> str:
    """The HTML section (escaped by Jinja2's autoescape)."""
    data = base64.b64encode(png.read_bytes()).decode("ascii") if png is not None else None
    assumptions = [*ASSUMPTIONS, *([MEDICAL_ASSUMPTION] if r.medical is not None else [])]
    return _ENV.get_template("counterfactual.html.j2").render(r=r, curve_png=data, assumptions=assumptions)


def _then(r: CounterfactualResult) -> str:
    ls = r.split()["stopped"]["lives_saved"]
    if ls is None:
        return "no draw stops it early"
    return f"{ls['mean']:.2f} ({ls['low']:.0f} to {ls['high']:.0f}); not stopped: 0"


def markdown(r: CounterfactualResult) -> str:
    """The headline figures as a Markdown table (quoted in docs/review.md; regenerate with
    ``python -m responsesim.review.counterfactual_report INCIDENT.toml``)."""
    rows = [
        ("change", r.change),
        ("lives saved (mean, 95% of draws)",
         f"{r.lives_saved.mean:.2f} ({r.lives_saved.low:.0f} to {r.lives_saved.high:.0f}) "
         f"of {r.record.killed}"),
        ("not shot", f"{r.not_shot.mean:.2f} ({r.not_shot.low:.0f} to {r.not_shot.high:.0f})"),
        ("survived with earlier care",
         f"{r.survived_care.mean:.2f} ({r.survived_care.low:.0f} to {r.survived_care.high:.0f})"),
        ("wounded not shot", f"{r.wounded_not_shot.mean:.2f} of {r.record.wounded}"),
        ("at least one life saved", f"{100 * r.p_any_saved.p:.0f}% of draws"),
        ("attack stopped before its recorded end", f"{100 * r.p_stopped_earlier.p:.0f}% of draws"),
        ("responder shot",
         f"{100 * r.p_officer_shot.p:.0f}% "
         f"({100 * r.p_officer_shot.low:.0f}-{100 * r.p_officer_shot.high:.0f}%)"),
        ("responder killed",
         f"{100 * r.p_officer_killed.p:.0f}% "
         f"({100 * r.p_officer_killed.low:.0f}-{100 * r.p_officer_killed.high:.0f}%)"),
        ("stopped early: lives saved then (mean, 95% of those draws)", _then(r)),
        ("lives saved at delay 0 s / the recorded delay",
         f"{r.curve.lives_saved.iloc[0]:.2f} / {r.curve.lives_saved.iloc[-1]:.2f} "
         f"({r.curve.delay_s.iloc[-1]:.0f} s)"),
    ]  # fmt: skip
    if r.medical is not None:
        m = r.medical
        ls = m.lives_saved
        rows.append((f"stopping the dying: {m.text}",
                     f"{ls.mean:.2f} ({ls.low:.0f} to {ls.high:.0f}); at least one in "
                     f"{100 * m.p_any_saved.p:.0f}% of draws"))  # fmt: skip
    body = "".join(f"| {k} | {v} |\n" for k, v in rows)
    return f"| {r.name} | {r.n:,} draws, seed {r.seed} |\n|---|---|\n" + body


if __name__ == "__main__":  # pragma: no cover - a docs helper
    import sys

    from responsesim.review.counterfactual import run_counterfactual

    for arg in sys.argv[1:]:
        sys.stdout.write(markdown(run_counterfactual(Path(arg))) + "\n")
