"""``vaecore reproduce EXPERIMENT``: run an experiment's sweeps, then its report."""

from __future__ import annotations

import argparse
import sys

from vaecore.commands.report import print_report
from vaecore.commands.sweep import EXIT_RUNS_FAILED, add_execution_args, run_sweeps
from vaecore.experiments import experiment_groups, resolve_experiments

#: experiments of this group run only at the thesis scale when reproduced as part of a group
THESIS_ONLY = "thesis-only"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reproduce",
        help="reproduce a thesis experiment (sweep + report), e.g. 'synthetic --quick'",
        description="Run the sweeps of EXPERIMENT (a group such as 'synthetic' or 'dsprites', or "
                    "one experiment such as 'table-3.4') and write the report (tables beside the "
                    "thesis's numbers, figures) to OUT/report. 'vaecore reproduce synthetic "
                    "--quick --out runs/quick' takes about 8 minutes on 2 CPU cores. 'chapter4' runs "
                    "chapter 4's stages (β-VAE selection restarts → perturbation → original / "
                    "modified / noisy training → Tables 4.2–4.5 and the effect check); with "
                    "--quick it leaves out the experiments of group 'thesis-only' (the line search).",
    )
    p.add_argument("experiment", help="group or experiment name: " + ", ".join(
        sorted(experiment_groups())))
    p.add_argument("--quick", action="store_true", help="the quick CPU scale (default: thesis)")
    add_execution_args(p, default_workers=2)
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    specs = resolve_experiments(args.experiment)
    if args.quick:  # experiments defined for the thesis scale only (e.g. the chapter-4 line search)
        specs = [s for s in specs if THESIS_ONLY not in s.groups or s.name == args.experiment]
    failed = run_sweeps(specs, args, scale="quick" if args.quick else "thesis")
    from vaecore.report import report

    print_report(report(args.out, figures=not args.no_figures, experiments=[s.name for s in specs]))
    if failed:
        print(f"reproduce: {failed} runs failed; see 'vaecore report {args.out} --failed'",
              file=sys.stderr)
    return EXIT_RUNS_FAILED if failed else 0
