"What the benchmark scripts share: the knowledge base they run on, and their command-line basics."
from __future__ import annotations
import argparse, json
from pathlib import Path

import numpy as np

from modulenas.kb import KnowledgeBase


def open_kb(path: str, pattern: str = 'resnet*') -> KnowledgeBase:
    "The knowledge base at `path`, filled from the zoo models matching `pattern` when it is empty."
    kb = KnowledgeBase(path)
    if not kb.models(): kb.add_zoo(pattern)
    if not kb.models(): raise SystemExit(f"error: no zoo model matching {pattern!r} could be loaded into {path}")
    return kb


class Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    "Help text with defaults, the description as written."


def base_parser(description: str, n_cands: int) -> argparse.ArgumentParser:
    "A parser with the arguments every benchmark takes: knowledge base, models and number of candidates."
    ap = argparse.ArgumentParser(description=description, formatter_class=Formatter)
    ap.add_argument('--kb', type=str, default='runs/kb', help='knowledge base folder (built from the zoo when empty)')
    ap.add_argument('--models', type=str, default='resnet*', help='zoo models (a pattern) for a new knowledge base')
    ap.add_argument('--n-cands', type=int, default=n_cands, help='candidates: the zoo networks, then random mixtures')
    return ap


def pool_parser(description: str, kb: str, kb_help: str) -> argparse.ArgumentParser:
    "A parser for the benchmarks that read a fidelity run's pool (dna.py, adwp.py): its knowledge base and results file."
    ap = argparse.ArgumentParser(description=description, formatter_class=Formatter)
    ap.add_argument('--kb', type=str, default=kb, help=kb_help)
    ap.add_argument('--fidelity', type=str, default='runs/fidelity.json', help='results file of benchmarks/fidelity.py')
    return ap


def add_search_args(ap: argparse.ArgumentParser, out: str) -> None:
    "The arguments of the benchmarks that run searches side by side (dna.py, adwp.py): batches, budgets, draws, device, output."
    ap.add_argument('--pop-size', type=int, default=10, help='candidates per batch, both searches')
    ap.add_argument('--param-budgets', type=lambda v: [float(x) for x in v.split(',')], default=[300_000, 500_000],
                    help='parameter budgets to report the best network under, comma-separated')
    ap.add_argument('--draws', type=int, default=2000, help='bootstrap resamples of the tau intervals')
    ap.add_argument('--device', type=str, default='cpu', help='device')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    ap.add_argument('--out', type=str, default=out, help='JSON results; the two search runs go beside it')


def best_under(recs: dict, budget: float) -> float | None:
    "The best validation score among the successfully scored archive records of at most `budget` parameters."
    ok = [r['result']['score'] for r in recs.values() if r['result'].get('error') is None and r['result']['params'] <= budget]
    return max(ok) if ok else None


def side_by_side_rows(runs: list[tuple[dict, dict]], param_budgets: list, parents: set = frozenset()) -> list[dict]:
    "Per run (its leading table cells, its archive records): the validation hypervolume of error and parameters on one set of scales for all runs (also without the `parents`' keys), and the best accuracy under each parameter budget."
    from modulenas.search import hv_scales, hypervolume
    F = lambda recs: np.array([[1 - r['result']['score'], r['result']['params']] for r in recs.values()
                               if r['result'].get('error') is None], dtype=float).reshape(-1, 2)
    scales = hv_scales(np.concatenate([F(recs) for _, recs in runs]), ('error', 'params'))
    rows = []
    for cells, recs in runs:
        new = {k: r for k, r in recs.items() if k not in parents}
        row = dict(cells, hypervolume=f'{hypervolume(F(recs), scales):.4f}', **{'new networks alone': f'{hypervolume(F(new), scales):.4f}'})
        for b in param_budgets:
            best = best_under(recs, b)
            row[f'best val <= {b / 1e6:g}M'] = '-' if best is None else f'{best:.4f}'
        rows.append(row)
    return rows


def write_report(out: str, report: dict) -> None:
    "Write the results file `out` (JSON), making its folder."
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=1))
    print(f'wrote {out}')


def accuracy_interval(correct: int, n: int, level: float = 0.95) -> tuple[float, float]:
    "Wilson interval of an accuracy of `correct` right out of `n` images."
    from scipy.stats import binomtest
    ci = binomtest(int(correct), int(n)).proportion_ci(level, method='wilson')
    return float(ci.low), float(ci.high)


def paired_differences(hits: dict[str, np.ndarray], pairs: list[tuple[str, str]], draws: int = 2000, seed: int = 0,
                       level: float = 0.95) -> list[dict]:
    """For each `(a, b)` of `pairs`, the accuracy of `a` minus that of `b` on the same images (`hits`: per image, right
    or wrong) with a paired bootstrap interval: the images resampled `draws` times, the same draws for every pair."""
    n = len(next(iter(hits.values())))
    draw = np.random.default_rng(seed).integers(0, n, (draws, n))
    rows = []
    for a, b in pairs:
        d = hits[a].astype(np.int8) - hits[b].astype(np.int8)
        lo, hi = np.quantile(d[draw].mean(1), [(1 - level) / 2, (1 + level) / 2])
        rows.append(dict(a=a, b=b, diff=float(d.mean()), low=float(lo), high=float(hi)))
    return rows


def seed_image_draws(n_seeds: int, n_images: int, draws: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    "Bootstrap draws over seeds and images: per draw, the weight of each seed (seeds resampled) and image indices."
    picks = rng.integers(0, n_seeds, (draws, n_seeds))
    weights = np.stack([np.bincount(p, minlength=n_seeds) for p in picks]) / n_seeds
    return weights, rng.integers(0, n_images, (draws, n_images))


def drawn_accuracies(hits: np.ndarray, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Accuracy in each bootstrap draw of `hits` (seeds x images, right or wrong): seeds resampled with `rng`, the
    images as `images` gives them (draws x images), so that two networks drawn with the same `images` are paired."""
    weights, _ = seed_image_draws(len(hits), 1, len(images), rng)
    per_image = weights @ hits.astype(np.float64)   # draws x images: the drawn seeds' mean hit on each image
    return np.take_along_axis(per_image, images, 1).mean(1)


def bootstrap_p(d: np.ndarray) -> float:
    "Two-sided bootstrap p-value of a difference whose draws are `d` (no smaller than one over the draws)."
    return float(min(1.0, max(2 * min((d <= 0).mean(), (d >= 0).mean()), 1 / len(d))))


def holm(pvalues: list[float]) -> tuple[list[float], list[float]]:
    """Holm's step-down correction: per hypothesis, the adjusted p-value and the test level its step used (alpha
    divided by the hypotheses left at its rank); an interval at `1 - level` agrees with the decision at alpha."""
    m, order = len(pvalues), sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, divisor, running = [0.0] * m, [1] * m, 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i], divisor[i] = running, m - rank
    return adjusted, divisor
