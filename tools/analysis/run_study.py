"""Run a multi-seed study: train and test every (run, seed) of a study file, resumably,
and write its page (docs/studies.md)::

    python tools/analysis/run_study.py STUDY [--work-dir DIR] [--only RUN ...] [--dry-run]
        [--max-runs N] [--no-optional] [--stale {error,rerun,keep}] [--resume-partial]
        [--keep-going] [--report-only] [--page PAGE]

Finished (run, seed) pairs are read back from their records; stopping the tool (Ctrl-C,
SIGTERM, a lost session) loses at most the run in flight.
"""
import argparse
import os.path as osp
import shlex
import sys

from mtlunder.analysis.study import (STATUS_TEXT, StudyError, StudyInterrupted, commands,
                                     load_study, plan_study, run_study, write_results)

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))


def script(name: str) -> str:
    """``tools/<name>``, relative to the current directory when under it (as recorded)."""
    path = osp.join(TOOLS, name)
    return path if osp.relpath(path).startswith('..') else osp.relpath(path)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('study', help='study file (an mmengine config, docs/studies.md)')
    parser.add_argument('--work-dir', help="overrides the study's work_dir")
    parser.add_argument('--page', help="overrides the study's page (.md; json and png beside)")
    parser.add_argument('--only', nargs='+', default=[], metavar='RUN',
                        help='train only these runs (the page still covers every record)')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan (status and commands of every run), train nothing')
    parser.add_argument('--report-only', action='store_true',
                        help='write the results file and the page from the records, train '
                             'nothing')
    parser.add_argument('--max-runs', type=int,
                        help='stop after launching this many (run, seed) pairs')
    parser.add_argument('--no-optional', action='store_true',
                        help='leave out the runs marked optional')
    parser.add_argument('--stale', choices=['error', 'rerun', 'keep'], default='error',
                        help='records trained with another config than the study resolves '
                             'now: stop (default), train again, or keep them (marked)')
    parser.add_argument('--resume-partial', action='store_true',
                        help='continue a run stopped in flight with --resume instead of '
                             'training it again from scratch')
    parser.add_argument('--keep-going', action='store_true',
                        help='after a failed run, go on with the next one')
    parser.add_argument('--heartbeat', type=float, default=60,
                        help='seconds between the training progress lines (default 60)')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    train, test = script('train.py'), script('test.py')
    try:
        study = load_study(args.study, args.work_dir, args.page)
        if args.dry_run:
            for item in plan_study(study, args.only, not args.no_optional):
                print(f'{item["run"]} seed {item["seed"]}: {STATUS_TEXT[item["status"]]}')
                if item['status'] != 'done':
                    for cmd in commands(study, study.run(item['run']), item['seed'], train,
                                        test):
                        print('    ' + shlex.join(cmd))
            return 0
        if args.report_only:
            results = write_results(study, args.stale)
            print(f'{study.page} written from {len(results["records"])} records')
            return 0
        outcome = run_study(study, train, test, args.only, args.max_runs,
                            not args.no_optional, args.stale, args.resume_partial,
                            args.keep_going, args.heartbeat)
    except StudyError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    except (KeyboardInterrupt, StudyInterrupted) as err:
        print(f'stopped ({type(err).__name__}); finished runs are kept, rerun to go on',
              file=sys.stderr)
        return 130
    for run, seed, message in outcome['failed']:
        print(f'FAILED {run} seed {seed}: {message}', file=sys.stderr)
    return 1 if outcome['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
