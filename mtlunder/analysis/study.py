"""Multi-seed studies: train and test every (run, seed) of a study file in subprocesses,
record each finished one atomically, resume from the records, write the study page.

A study file is an mmengine config (docs/studies.md)::

    runs = [dict(name='squad', config='configs/squad/....py', cfg_options=dict()),
            ...,
            dict(name='cascade', config='...', optional=True)]  # after all required runs
    seeds = [0, 1, 2]
    single_task_runs = dict(det='single-det', enh='single-enh')  # delta_m reference
    delta_keys = dict(det=['coco/bbox_mAP'], enh=['enh/psnr', 'enh/ssim'])
    metrics = ['coco/bbox_mAP', 'coco/bbox_mAP_50', 'enh/psnr', 'enh/ssim']
    reference_run = 'squad'                  # paired differences against it
    work_dir = 'work_dirs/studies/NAME'      # optional, the default
    page = 'work_dirs/studies/NAME/NAME.md'  # optional; results json and png beside it
    checkpoint = 'last'                      # or 'best' (CheckpointHook save_best)

The runs are done seed-major (every required run of seed 0, then of seed 1, ...; optional
runs after all of them), so a study stopped part-way holds complete comparisons for the
seeds it finished. Layout of the work dir::

    study.lock                               held (flock) by the runner working on it
    <run>/seed<N>/                           mmengine work dir of the training
        .study_run                           marker: the runner owns (and may clear) it
        resolved_config.json                 config + cfg_options + seed (canonical
                                             json); its sha256 is the config hash
        train.log, test.log                  output of tools/train.py and tools/test.py
        test/<timestamp>/<timestamp>.json    the metrics tools/test.py logged
        record.json                          written last: the (run, seed) is finished

A (run, seed) with a ``record.json`` whose config hash is still the one of its resolved
config is read back, never retrained; a folder without one (a run killed in flight) is
cleared and trained again (or resumed with ``resume_partial``).
"""
import datetime
import glob
import hashlib
import json
import os
import os.path as osp
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

FORMAT_VERSION = 1
RECORD_FILE = 'record.json'
MARKER_FILE = '.study_run'
RESOLVED_CONFIG = 'resolved_config.json'
LOCK_FILE = 'study.lock'
#: keys of a logged metrics record that are not metrics
_NOT_METRICS = ('step', 'time', 'data_time', 'iter', 'epoch', 'lr', 'memory')
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
#: mmengine's training log line: ``Epoch(train) [3][10/60] ... eta: 0:03:12 ...``
_PROGRESS_LINE = re.compile(r'((?:Epoch|Iter)\(train\)\s*(?:\[[^\]]*\])+).*?(eta: \S+)')
#: what a status of :func:`plan_study` means
STATUS_TEXT = dict(done='finished, read back', stale='finished with another config',
                   partial='started, not finished', todo='not started')


class StudyError(ValueError):
    """A study file, work dir or run that cannot be used; the message names it."""


class StudyInterrupted(Exception):
    """The runner received SIGTERM; the run in flight was stopped."""


def print_flushed(line: str) -> None:
    """The default ``log`` of the runner: a line on stdout, flushed (for ``nohup ... > log``)."""
    print(line, flush=True)


@dataclass(frozen=True)
class StudyRun:
    """One run of a study: a config trained with ``cfg_options`` for every seed."""
    name: str
    config: str
    cfg_options: Dict[str, object] = field(default_factory=dict)
    optional: bool = False


@dataclass(frozen=True)
class Study:
    """A loaded, validated study file (:func:`load_study`)."""
    path: str
    title: str
    description: str
    runs: Tuple[StudyRun, ...]
    seeds: Tuple[int, ...]
    single_task_runs: Dict[str, str]
    delta_keys: Dict[str, Tuple[str, ...]]
    metrics: Tuple[str, ...]
    reference_run: Optional[str]
    checkpoint: str
    work_dir: str
    page: str

    def run(self, name: str) -> StudyRun:
        """The run called ``name``."""
        for run in self.runs:
            if run.name == name:
                return run
        raise StudyError(f'{self.path}: no run {name!r}; runs: {[r.name for r in self.runs]}')

    @property
    def results_file(self) -> str:
        """The results json written beside the page."""
        return osp.splitext(self.page)[0] + '.json'

    def to_dict(self) -> dict:
        """The study as stored in the results file."""
        return dict(file=self.path, title=self.title, description=self.description,
                    runs=[dict(name=r.name, config=r.config, cfg_options=dict(r.cfg_options),
                               optional=r.optional) for r in self.runs],
                    seeds=list(self.seeds), single_task_runs=dict(self.single_task_runs),
                    delta_keys={t: list(k) for t, k in self.delta_keys.items()},
                    metrics=list(self.metrics), reference_run=self.reference_run,
                    checkpoint=self.checkpoint)


def load_study(path: str, work_dir: Optional[str] = None, page: Optional[str] = None) -> Study:
    """Read and validate a study file.

    Args:
        path: the study file (an mmengine config).
        work_dir: overrides the file's ``work_dir`` (default
            ``work_dirs/studies/<file stem>``).
        page: overrides the file's ``page`` (default ``<work_dir>/<file stem>.md``).

    Raises:
        StudyError: naming the file and what is wrong (unknown keys, duplicate or odd run
            names, a missing config, options the runner sets itself, seeds that are not
            distinct integers, delta_m references or a reference run that are not runs,
            metrics of unknown direction).
    """
    from mmengine.config import Config

    from mtlunder.evaluation.metric_directions import lower_is_better
    from mtlunder.structures import TASK_NAMES

    if not osp.isfile(path):
        raise StudyError(f'study file {path} does not exist')
    cfg = Config.fromfile(path, import_custom_modules=False).to_dict()
    known = {'runs', 'seeds', 'single_task_runs', 'delta_keys', 'metrics', 'reference_run',
             'checkpoint', 'work_dir', 'page', 'title', 'description'}
    unknown = sorted(k for k in set(cfg) - known if not k.startswith('_'))
    if unknown:
        raise StudyError(f'{path}: unknown keys {unknown}; a study file has {sorted(known)} '
                         '(and helper variables named _like_this)')

    def fail(message: str):
        raise StudyError(f'{path}: {message} (docs/studies.md)')

    runs = []
    for i, run in enumerate(cfg.get('runs') or fail('`runs` is missing or empty')):
        if not isinstance(run, dict) or not {'name', 'config'} <= set(run) or \
                set(run) - {'name', 'config', 'cfg_options', 'optional'}:
            fail(f'runs[{i}] must be dict(name, config, cfg_options={{}}, optional=False), '
                 f'got {run!r}')
        name, options = str(run['name']), dict(run.get('cfg_options') or {})
        if not _NAME.match(name):
            fail(f'run name {name!r} must be a folder name (letters, digits, _ . -)')
        if not osp.isfile(run['config']):
            fail(f'run {name!r}: config {run["config"]} does not exist')
        owned = [k for k in options if k.split('.')[0] in ('randomness', 'work_dir')]
        if owned:
            fail(f'run {name!r}: cfg_options {owned} are set by the runner (seed, work dir)')
        for key, value in options.items():
            _cli_option(key, value, f'{path}: run {name!r}')
        runs.append(StudyRun(name, run['config'], options, bool(run.get('optional', False))))
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        fail(f'run names repeat: {names}')
    seeds = cfg.get('seeds')
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                            for s in seeds) or len(set(seeds)) != len(seeds):
        fail(f'`seeds` must be distinct non-negative integers, got {seeds!r}')
    metrics = tuple(cfg.get('metrics') or fail('`metrics` is missing or empty'))
    single = dict(cfg.get('single_task_runs') or {})
    delta_keys = {t: tuple(k) for t, k in (cfg.get('delta_keys') or {}).items()}
    for key in metrics + tuple(k for keys in delta_keys.values() for k in keys):
        try:
            lower_is_better(key)
        except KeyError as err:
            fail(err.args[0])
    for task, name in single.items():
        if task not in TASK_NAMES:
            fail(f'single_task_runs: {task!r} is not a task of {TASK_NAMES}')
        if name not in names:
            fail(f'single_task_runs[{task!r}] = {name!r} is not a run ({names})')
    if set(delta_keys) != set(single) or not all(delta_keys.values()):
        fail(f'delta_keys must give metric keys for exactly the tasks of single_task_runs '
             f'{sorted(single)}, got {delta_keys}')
    reference = cfg.get('reference_run')
    if reference is not None and reference not in names:
        fail(f'reference_run {reference!r} is not a run ({names})')
    checkpoint = cfg.get('checkpoint', 'last')
    if checkpoint not in ('last', 'best'):
        fail(f"checkpoint must be 'last' or 'best', got {checkpoint!r}")
    stem = osp.splitext(osp.basename(path))[0]
    work_dir = work_dir or cfg.get('work_dir') or osp.join('work_dirs', 'studies', stem)
    page = page or cfg.get('page') or osp.join(work_dir, f'{stem}.md')
    if not page.endswith('.md'):
        fail(f'page {page!r} must be a .md file')
    return Study(path=path, title=str(cfg.get('title', stem)),
                 description=str(cfg.get('description', '')), runs=tuple(runs),
                 seeds=tuple(seeds), single_task_runs=single, delta_keys=delta_keys,
                 metrics=metrics, reference_run=reference, checkpoint=checkpoint,
                 work_dir=work_dir, page=page)


def _cli_option(key: str, value, where: str) -> str:
    """``key=value`` as ``--cfg-options`` parses it back to ``value`` (mmengine's
    ``DictAction``); a value it would read differently is an error naming ``where``."""
    from mmengine.config import DictAction

    if isinstance(value, (list, tuple)):
        inner = ','.join(_cli_option(key, v, where).split('=', 1)[1] for v in value)
        text = f'[{inner}]' if isinstance(value, list) else f'({inner})'
    elif isinstance(value, (str, bool, int, float)) or value is None:
        text = str(value)
    else:
        raise StudyError(f'{where}: cfg_options[{key!r}] = {value!r} cannot be passed as '
                         '--cfg-options (give a number, string, bool, None or a list of them)')
    parsed = DictAction._parse_iterable(text)
    if isinstance(value, (list, tuple)) and not isinstance(value, type(parsed)):
        parsed = None
    if parsed != value:
        raise StudyError(f'{where}: cfg_options[{key!r}] = {value!r} would be read back as '
                         f'{parsed!r} from the command line; change the value')
    return f'{key}={text}'


def run_dir(study: Study, run: str, seed: int) -> str:
    """The work dir of ``run`` at ``seed``."""
    return osp.join(study.work_dir, run, f'seed{seed}')


def seed_options(run: StudyRun, seed: int) -> Dict[str, object]:
    """The run's cfg_options with the seed."""
    return {**run.cfg_options, 'randomness.seed': seed}


def resolve_config(run: StudyRun, seed: int) -> Tuple[str, str]:
    """The config trained for ``run`` at ``seed`` (file + options + seed, merged as
    ``tools/train.py`` merges them, without the work dir) dumped as canonical json (sorted
    keys), and the sha256 of that text (the config hash)."""
    from mmengine.config import Config

    cfg = Config.fromfile(run.config, import_custom_modules=False)
    cfg.merge_from_dict(seed_options(run, seed))
    text = json.dumps(cfg.to_dict(), sort_keys=True, indent=1, default=repr) + '\n'
    return text, hashlib.sha256(text.encode()).hexdigest()


def read_record(study: Study, run: str, seed: int) -> Optional[dict]:
    """The record of a finished (run, seed), or None."""
    path = osp.join(run_dir(study, run, seed), RECORD_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        try:
            record = json.load(f)
        except json.JSONDecodeError as err:
            raise StudyError(f'{path} is not valid json ({err}); delete it to retrain '
                             f'{run} seed {seed}') from err
    if record.get('format_version') != FORMAT_VERSION or (record.get('run'), record.get(
            'seed')) != (run, seed):
        raise StudyError(f'{path} is not the record of {run} seed {seed} (format_version '
                         f'{FORMAT_VERSION}); delete it to retrain')
    return record


def plan_study(study: Study, only: Sequence[str] = (), include_optional: bool = True
               ) -> List[dict]:
    """The (run, seed) pairs in running order, each with its status.

    Order: seed-major over the required runs, then seed-major over the optional ones
    (left out with ``include_optional=False`` unless named in ``only``).

    Returns:
        ``[dict(run, seed, status, config_hash, record)]``; ``status`` is one of
        :data:`STATUS_TEXT` (``done``: a record with the current config hash; ``stale``:
        a record with another; ``partial``: a work dir without a record; ``todo``).
    """
    for name in only:
        study.run(name)
    runs = [r for r in study.runs if not only or r.name in only]
    required = [r for r in runs if not r.optional]
    optional = [r for r in runs if r.optional and (include_optional or r.name in only)]
    plan = []
    for group in (required, optional):
        for seed in study.seeds:
            for run in group:
                _, digest = resolve_config(run, seed)
                record = read_record(study, run.name, seed)
                if record is not None:
                    status = 'done' if record['config_hash'] == digest else 'stale'
                else:
                    status = 'partial' if osp.isdir(run_dir(study, run.name, seed)) else 'todo'
                plan.append(dict(run=run.name, seed=seed, status=status, config_hash=digest,
                                 record=record))
    return plan


def commands(study: Study, run: StudyRun, seed: int, train_script: str, test_script: str,
             checkpoint: str = 'CHECKPOINT', python: str = sys.executable
             ) -> Tuple[List[str], List[str]]:
    """The ``tools/train.py`` and ``tools/test.py`` command lines of (run, seed)."""
    work = run_dir(study, run.name, seed)
    options = ['--cfg-options'] + [_cli_option(k, v, study.path)
                                   for k, v in seed_options(run, seed).items()]
    train = [python, train_script, run.config, '--work-dir', work, *options]
    test = [python, test_script, run.config, checkpoint, '--work-dir', osp.join(work, 'test'),
            *options]
    return train, test


def git_state(cwd: str = '.') -> Dict[str, object]:
    """``dict(commit, dirty)`` of the repository at ``cwd``; ``'unknown'`` / None without
    git."""
    try:
        commit = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=cwd, capture_output=True,
                                text=True, check=True).stdout.strip()
        status = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                                cwd=cwd, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return dict(commit='unknown', dirty=None)
    return dict(commit=commit, dirty=bool(status.strip()))


def test_metrics(test_dir: str) -> Dict[str, float]:
    """The metrics ``tools/test.py`` logged under ``test_dir``: the last record of the
    newest ``<timestamp>/<timestamp>.json``. It may hold none (mmdet's ``CocoMetric``
    reports nothing when the detector finds no box); the page lists such gaps."""
    logs = sorted(glob.glob(osp.join(test_dir, '*', '*.json')), key=osp.getmtime)
    if not logs:
        raise StudyError(f'no test log under {test_dir} (tools/test.py writes '
                         '<timestamp>/<timestamp>.json)')
    with open(logs[-1]) as f:
        lines = [json.loads(line) for line in f if line.strip()]
    return {k: float(v) for k, v in (lines[-1] if lines else {}).items()
            if k not in _NOT_METRICS and isinstance(v, (int, float)) and not isinstance(v, bool)}


def _run_logged(cmd: List[str], log_path: str, heartbeat_s: float,
                log: Callable[[str], None]) -> float:
    """Run ``cmd`` with its output in ``log_path``; every ``heartbeat_s`` print the last
    training progress line of the log. Returns the wall time (s).

    The command runs in its own process group, stopped (SIGTERM, then SIGKILL) when the
    runner is interrupted. Raises :class:`StudyError` on a non-zero exit.
    """
    start = time.perf_counter()
    with open(log_path, 'w') as out:
        out.write('$ ' + shlex.join(cmd) + '\n')
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        shown = None
        try:
            while True:
                try:
                    proc.wait(timeout=heartbeat_s)
                    break
                except subprocess.TimeoutExpired:
                    line = _last_progress_line(log_path)
                    if line and line != shown:
                        log(f'    {line}')
                        shown = line
        except BaseException:
            _stop(proc)
            raise
    if proc.returncode != 0:
        with open(log_path, errors='replace') as f:
            tail = ''.join(f.readlines()[-15:])
        raise StudyError(f'`{shlex.join(cmd)}` exited with {proc.returncode}; log '
                         f'{log_path}, last lines:\n{tail}')
    return time.perf_counter() - start


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group of ``proc``, SIGKILL after 30 s."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _last_progress_line(log_path: str) -> Optional[str]:
    with open(log_path, errors='replace') as f:
        lines = f.readlines()[-50:]
    for line in reversed(lines):
        match = _PROGRESS_LINE.search(line)
        if match:
            return ' '.join(match.groups())
    return None


def train_and_test(study: Study, run: StudyRun, seed: int, train_script: str,
                   test_script: str, resume: bool = False,
                   heartbeat_s: float = 60, log: Callable[[str], None] = print_flushed) -> dict:
    """Train and test (run, seed) in subprocesses and write its record (atomically, last).

    The config hash and the git state are taken when the training starts.

    Args:
        resume: continue a partial work dir that has a checkpoint with ``--resume``
            instead of clearing it.

    Returns:
        The record: ``format_version, run, seed, config, cfg_options, metrics,
        config_hash, checkpoint=dict(path, sha256), git=dict(commit, dirty),
        wall_time_s=dict(train, test), commands=dict(train, test), resumed, finished_at,
        host``.
    """
    from mtlunder.fileio import atomic_write_text
    from mtlunder.evaluation.single_task_results import find_checkpoint, sha256_file

    work = run_dir(study, run.name, seed)
    resumed = resume and osp.isfile(osp.join(work, 'last_checkpoint'))
    if osp.isdir(work):
        if not osp.isfile(osp.join(work, MARKER_FILE)):
            raise StudyError(f'{work} exists but was not made by the study runner (no '
                             f'{MARKER_FILE}); move it away or choose another work dir')
        if not resumed:
            shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    with open(osp.join(work, MARKER_FILE), 'w') as f:
        f.write(f'{study.path} {run.name} seed {seed}\n')
    resolved, config_hash = resolve_config(run, seed)
    atomic_write_text(osp.join(work, RESOLVED_CONFIG), resolved)
    git = git_state()
    train_cmd, _ = commands(study, run, seed, train_script, test_script)
    if resumed:
        train_cmd.append('--resume')
    train_s = _run_logged(train_cmd, osp.join(work, 'train.log'), heartbeat_s, log)
    try:
        ckpt = find_checkpoint(work, study.checkpoint)
    except (FileNotFoundError, ValueError) as err:
        raise StudyError(f'{run.name} seed {seed}: {err}') from err
    if not osp.relpath(ckpt).startswith('..'):
        ckpt = osp.relpath(ckpt)   # mmengine records absolute paths
    _, test_cmd = commands(study, run, seed, train_script, test_script, ckpt)
    shutil.rmtree(osp.join(work, 'test'), ignore_errors=True)
    test_s = _run_logged(test_cmd, osp.join(work, 'test.log'), heartbeat_s, log)
    record = dict(
        format_version=FORMAT_VERSION, run=run.name, seed=seed, config=run.config,
        cfg_options=dict(run.cfg_options), metrics=test_metrics(osp.join(work, 'test')),
        config_hash=config_hash,
        checkpoint=dict(path=ckpt, sha256=sha256_file(ckpt, show_progress=False)),
        git=git, wall_time_s=dict(train=train_s, test=test_s),
        commands=dict(train=shlex.join(train_cmd), test=shlex.join(test_cmd)),
        resumed=resumed,
        finished_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        host=platform.node())
    atomic_write_text(osp.join(work, RECORD_FILE), json.dumps(record, indent=2) + '\n')
    return record


def collect_results(study: Study, stale: str = 'error') -> dict:
    """The results of every finished (run, seed) of the study (all runs, all seeds): the
    content of :attr:`Study.results_file`. Records of another config hash are kept and
    marked ``stale`` with ``stale='keep'``; otherwise they are left out and listed in
    ``left_out``."""
    records, left_out = [], []
    for item in plan_study(study):
        if item['record'] is None:
            continue
        if item['status'] == 'stale' and stale != 'keep':
            left_out.append(dict(run=item['run'], seed=item['seed'],
                                 reason='trained with another config than the study '
                                        'resolves now (stale)'))
            continue
        records.append(dict(item['record'], stale=item['status'] == 'stale'))
    return dict(format_version=FORMAT_VERSION, study=study.to_dict(), records=records,
                left_out=left_out)


def write_results(study: Study, stale: str = 'error') -> dict:
    """Write :attr:`Study.results_file` (atomically) and the page from it; the results."""
    from mtlunder.fileio import atomic_write_text

    from .study_report import write_report

    results = collect_results(study, stale)
    if results['left_out']:
        print_flushed(f'{len(results["left_out"])} finished runs left out of the page: '
                      + ', '.join(f'{r["run"]} seed {r["seed"]} ({r["reason"]})'
                                  for r in results['left_out']))
    atomic_write_text(study.results_file, json.dumps(results, indent=2) + '\n')
    write_report(results, study.page, study.results_file)
    return results


def format_duration(seconds: float) -> str:
    """``'1 h 04 min'``, ``'9 min 12 s'`` or ``'42 s'``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f'{seconds // 3600} h {seconds % 3600 // 60:02d} min'
    if seconds >= 60:
        return f'{seconds // 60} min {seconds % 60:02d} s'
    return f'{seconds} s'


class _StudyLock:
    """An exclusive ``flock`` on ``<work_dir>/study.lock`` (released when the process
    ends, however it ends)."""

    def __init__(self, work_dir: str):
        self.path = osp.join(work_dir, LOCK_FILE)

    def __enter__(self):
        import fcntl

        os.makedirs(osp.dirname(self.path), exist_ok=True)
        self.file = open(self.path, 'a+')
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise StudyError(f'another run_study.py is working on {osp.dirname(self.path)} '
                             f'(it holds {self.path})') from None
        self.file.truncate(0)
        self.file.write(f'{os.getpid()}\n')
        self.file.flush()
        return self

    def __exit__(self, *exc):
        self.file.close()


def _raise_interrupted(signum, frame):
    raise StudyInterrupted(f'received signal {signum}')


def run_study(study: Study, train_script: str, test_script: str,
              only: Sequence[str] = (), max_runs: Optional[int] = None,
              include_optional: bool = True, stale: str = 'error',
              resume_partial: bool = False, keep_going: bool = False,
              heartbeat_s: float = 60, log: Callable[[str], None] = print_flushed) -> dict:
    """Train and test every missing (run, seed) of ``study`` in order, then write the
    results file and the page (also after every finished run).

    Args:
        train_script / test_script: ``tools/train.py`` / ``tools/test.py``, run with this
            Python in the current directory.
        only: run names to train (default all); the page always covers every record.
        max_runs: stop after launching this many (run, seed) pairs.
        include_optional: also the runs marked ``optional`` (after all required ones).
        stale: what to do with records of another config hash: ``'error'`` (stop before
            training anything), ``'rerun'`` (train again) or ``'keep'`` (use them, marked
            on the page).
        resume_partial: continue a work dir left without a record with ``--resume``
            (default: clear it and train from scratch, so the run equals an uninterrupted
            one).
        keep_going: after a failed (run, seed), go on with the next (default: stop).
        heartbeat_s: how often the last training progress line is printed.

    Returns:
        ``dict(launched=[(run, seed)], failed=[(run, seed, message)], results)``.

    Raises:
        StudyError: stale records with ``stale='error'``, a failed run without
            ``keep_going``, another runner on the same work dir.
        StudyInterrupted: SIGTERM; the run in flight is stopped and left without a record.
    """
    if stale not in ('error', 'rerun', 'keep'):
        raise ValueError(f"stale must be 'error', 'rerun' or 'keep', got {stale!r}")
    with _StudyLock(study.work_dir):
        plan = plan_study(study, only, include_optional)
        stale_items = [f'{p["run"]} seed {p["seed"]}' for p in plan if p['status'] == 'stale']
        if stale_items and stale == 'error':
            raise StudyError(
                f'{len(stale_items)} finished runs were trained with another config than the '
                f'study now resolves: {stale_items}; pass --stale rerun to train them again or '
                '--stale keep to report them as they are (marked stale)')
        todo = [p for p in plan if p['status'] in ('todo', 'partial')
                or (p['status'] == 'stale' and stale == 'rerun')]
        if max_runs is not None:
            todo = todo[:max_runs]
        done = sum(p['status'] == 'done' or (p['status'] == 'stale' and stale == 'keep')
                   for p in plan)
        log(f'study {study.path}: {len(plan)} (run, seed) pairs, {done} finished, '
            f'{len(todo)} to train now; work dir {study.work_dir}')
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _raise_interrupted) if main_thread else None
        launched, failed, walls, start = [], [], [], time.perf_counter()
        try:
            for i, item in enumerate(todo):
                run = study.run(item['run'])
                tag = f'[{i + 1}/{len(todo)}] {run.name} seed {item["seed"]}'
                log(f'{tag}: training ({STATUS_TEXT[item["status"]]}; logs in '
                    f'{run_dir(study, run.name, item["seed"])})')
                launched.append((run.name, item['seed']))
                try:
                    record = train_and_test(study, run, item['seed'], train_script,
                                            test_script, resume_partial, heartbeat_s, log)
                except StudyError as err:
                    if not keep_going:
                        raise
                    failed.append((run.name, item['seed'], str(err)))
                    log(f'{tag}: FAILED: {err}')
                    continue
                walls.append(sum(record['wall_time_s'].values()))
                elapsed = time.perf_counter() - start
                eta = sum(walls) / len(walls) * (len(todo) - i - 1)
                log(f'{tag}: done in {format_duration(walls[-1])} (train '
                    f'{format_duration(record["wall_time_s"]["train"])}, test '
                    f'{format_duration(record["wall_time_s"]["test"])}); '
                    f'{done + len(walls)}/{len(plan)} finished; elapsed '
                    f'{format_duration(elapsed)}, ETA {format_duration(eta)}')
                write_results(study, stale)
        finally:
            if main_thread:
                signal.signal(signal.SIGTERM, previous)
        results = write_results(study, stale)
    log(f'page: {study.page} (results {study.results_file}); {len(results["records"])} '
        f'finished (run, seed) pairs')
    return dict(launched=launched, failed=failed, results=results)
