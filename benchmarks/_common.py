"What the benchmark scripts share: the knowledge base they run on, and their command-line basics."
from __future__ import annotations
import argparse

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
