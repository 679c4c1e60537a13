"""``python -m responsesim.exercise``: play an exercise from the terminal and write its debrief.

    python -m responsesim.exercise play SCENARIO.toml [--unit patrol|sro] [--seed N] [--replication R]
        [--choose KIND=CHOICE ...] [--default CHOICE] [--interactive] [--branches 1000] [--point-estimate]
        [--workers 1] [--out DIR]
    python -m responsesim.exercise render DEBRIEF.json [--out PAGE.html]

``play`` writes DIR/debrief.json, DIR/debrief.html and each decision's saved moment
(DIR/moment-N.npz). Choices come from ``--choose`` by kind of decision point (arrival, barricade,
backup_eta, shots_heard, out_of_sight), else ``--default``, else the scenario doctrine's; with
``--interactive`` they are asked on the terminal.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from responsesim.exercise.debrief import Debrief, debrief
from responsesim.exercise.report import write_html
from responsesim.exercise.session import DecisionPoint, Exercise, ExerciseError
from responsesim.scenario.errors import ScenarioError
from responsesim.scenario.load import load_scenario


def _ask(point: DecisionPoint) -> str:
    ids = [c.id for c in point.choices]
    while True:
        for k, c in enumerate(point.choices, 1):
            print(f"  {k}. {c.label} [{c.id}]")
        text = input("your choice: ").strip()
        if text.isdigit() and 1 <= int(text) <= len(ids):
            return ids[int(text) - 1]
        if text in ids:
            return text
        print(f"  not a choice here: type 1-{len(ids)} or one of {', '.join(ids)}")


def _play(args: argparse.Namespace) -> int:
    policy = dict(item.split("=", 1) for item in args.choose)
    sc = load_scenario(args.scenario)
    ex = Exercise(sc, unit=args.unit, seed=args.seed, replication=args.replication)
    print(f"Exercise: {sc.spec.name}; you are the {'SRO' if args.unit == 'sro' else 'first patrol officer'} "
          f"(seed {ex.scenario.spec.seed}, replication {ex.replication})")  # fmt: skip
    while (point := ex.advance()) is not None:
        print(f"\n{point.title} (t = {point.t_s:.0f} s)")
        for line in point.view.lines():
            print(f"  {line}")
        ids = [c.id for c in point.choices]
        if args.interactive:
            pick = _ask(point)
        else:
            pick = policy.get(point.kind) or args.default or point.doctrine_choice or ids[0]
            if pick not in ids:
                pick = point.doctrine_choice or ids[0]
            print(f"  choices: {', '.join(ids)}; chosen: {pick}")
        ex.choose(pick)
    out = ex.outcome()
    you = "were" if out["you_shot"] else "were not"
    died = out["died_awaiting_care"]
    print(f"\nThe incident as played: {out['deaths']} deaths ({died} died awaiting care), "
          f"{out['officers_shot']} officers shot, you {you} shot")  # fmt: skip
    if not ex.decisions:
        print("no decision was made (the attack ended before your officer arrived): no debrief")
        return 0
    d = debrief(ex, args.branches, "point" if args.point_estimate else "posterior", workers=args.workers)
    args.out.mkdir(parents=True, exist_ok=True)
    for k, dec in enumerate(ex.decisions, 1):
        dec.point.moment.save(args.out / f"moment-{k}.npz")
    d.save(args.out / "debrief.json")
    write_html(d, args.out / "debrief.html")
    print(f"\nDebrief ({args.branches:,} runs per choice from each saved moment; {d.uncertainty_note}):")
    for x in d.decisions:
        took = f"{x.seconds:.2f} s to compute, {x.cpu_seconds:.2f} s of processor time"
        print(f"\n{x.index}. {x.title} at {x.t_s:.0f} s ({took})")
        for s in x.headline:
            print(f"  {s}")
    print(f"\nwritten: {args.out / 'debrief.json'}, {args.out / 'debrief.html'}, {len(ex.decisions)} moments")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 on bad input, with a one-line message)."""
    ap = argparse.ArgumentParser(prog="python -m responsesim.exercise", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("play", help="play an exercise and write its debrief")
    p.add_argument("scenario", type=Path)
    p.add_argument("--unit", choices=("patrol", "sro"), default="patrol")
    p.add_argument("--seed", type=int)
    p.add_argument("--replication", type=int)
    p.add_argument("--choose", action="append", default=[], metavar="KIND=CHOICE")
    p.add_argument("--default", metavar="CHOICE")
    p.add_argument("--interactive", action="store_true")
    p.add_argument("--branches", type=int, default=1000)
    p.add_argument("--point-estimate", action="store_true", help="every branch at the replication's values")
    p.add_argument("--workers", type=int, default=1, help="processes per decision's branches")
    p.add_argument("--out", type=Path, default=Path("exercise-debrief"))
    r = sub.add_parser("render", help="write the HTML page of a saved debrief")
    r.add_argument("debrief", type=Path)
    r.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    try:
        if args.command == "render":
            d = Debrief.load(args.debrief)
            path = write_html(d, args.out or args.debrief.with_suffix(".html"))
            print(f"written: {path}")
            return 0
        if any("=" not in c for c in args.choose):
            raise ExerciseError("--choose takes KIND=CHOICE, e.g. --choose arrival=wait_for_next")
        return _play(args)
    except (ExerciseError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
