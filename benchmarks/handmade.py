#!/usr/bin/env python
"""Networks written by hand, fine-tuned and scored exactly as the networks of a `vs_parents.py` comparison.

A quick test of an idea about the search space (does this kind of network reach the goal at all?) before a search
is changed to find it. Each network is a chain of module ids written as runs of one parent's modules joined by
'+': `resnet56:00-18+resnet20:07-10` is ResNet-56's stem and first two stages, then ResNet-20's last stage and
head. Each is stitched and scored like a search candidate (validation before), fine-tuned with the comparison's
budget (steps, learning rate, batch, seed), and scored on the validation half (after) and once on the test half,
then printed next to the comparison's fine-tuned parents, with each one's test accuracy minus each parent's on the
same images (paired bootstrap intervals). Rows are kept in OUT/handmade.json and per-image hits in OUT/test_hits.npz:
run again to add networks; those done are not trained again.

    python benchmarks/handmade.py runs/vs_parents 'resnet56:00-18+resnet20:07-10' 'resnet56:00-21+resnet56:27-28'
"""
from __future__ import annotations
import argparse, json
from pathlib import Path

from modulenas.arch import Candidate, validate
from modulenas.core import atomic_write_bytes, render_table
from modulenas.export import finetune_and_compare
from modulenas.kb import module_id
from modulenas.pipeline import setup_parts, add_hits, read_hits, read_run
from modulenas.strategies.splice import seams

from _common import Formatter, paired_differences
from vs_parents import _hits_id, comparison_table


def parse_chain(spec: str) -> Candidate:
    "The candidate written as `parent:a-b+parent:c+...` (module positions, ranges inclusive): first id the stem, last the head."
    ids = []
    for part in spec.split('+'):
        parent, _, span = part.strip().rpartition(':')
        if not parent or not span: raise ValueError(f"{part!r} in {spec!r}: write parent:first-last or parent:position")
        a, _, b = span.partition('-')
        lo, hi = int(a), int(b or a)
        if hi < lo: raise ValueError(f"{part!r} in {spec!r}: the range goes backwards")
        ids += [module_id(parent, i) for i in range(lo, hi + 1)]
    if len(ids) < 2: raise ValueError(f"{spec!r}: a network needs at least a stem and a head")
    return Candidate(ids[0], tuple(ids[1:-1]), ids[-1], name=spec)


def main(out: str, specs: list[str], device: str | None = None) -> list[dict]:
    out = Path(out)
    args = json.loads((out/'args.json').read_text())
    run = read_run(out/'search')
    kb, data, cfg, dev = setup_parts(run, device or args['device'])
    path = out/'handmade.json'
    rows = json.loads(path.read_text()) if path.exists() else []
    done = {r['name'] for r in rows}
    for spec in specs:
        if spec in done: continue
        cand = parse_chain(spec); validate(cand, kb)
        (row,) = finetune_and_compare([cand], [], kb, data, steps=args['steps'], lr=args['lr'], batch_size=args['batch'],
                                      seed=args['seed'], device=dev, config=cfg, per_image=True)
        add_hits(out, {_hits_id('handmade', cand.key): row.pop('test_hits')})
        rows.append(dict(row, name=spec, key=cand.key, kind='handmade', seams=seams(cand, kb)))
        atomic_write_bytes(path, json.dumps(rows, indent=1).encode())
    parents = [dict(r, kind='parent', seams=0) for r in json.loads((out/'search'/'finetune'/'results.json').read_text())['rows']
               if r.get('zoo')]
    cells = [dict(network=r['name'], kind=r['kind'], params=f"{r['params']:,}", seams=r['seams'],
                  **{'val before': f"{r['val_before']:.4f}", 'val after': f"{r['val_after']:.4f}",
                     'test after': f"{r['test_after']:.4f}"})
             for r in sorted(rows + parents, key=lambda r: -r['test_after'])]
    print(render_table(cells, list(cells[0]), title=f"after {args['steps']} steps of batch {args['batch']}, lr {args['lr']}"))
    known = read_hits(out)  # the parents' are there once vs_parents.py has finished
    hits = {r['name']: known[i] for r in rows + parents if (i := _hits_id(r['kind'], r['key'])) in known}
    pairs = [(a['name'], b['name']) for a in rows for b in sorted(parents, key=lambda r: r['params'])
             if a['name'] in hits and b['name'] in hits]
    if pairs: print(comparison_table(paired_differences(hits, pairs), len(next(iter(hits.values())))))
    else: print('no paired comparison: no per-image test hits for these networks or for the parents (the parents get '
                'theirs when vs_parents.py finishes; rows made before hits were kept have none)')
    print(f'wrote {path}')
    return rows


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Formatter)
    ap.add_argument('out', help="a vs_parents.py comparison's --out folder (its search, settings and fine-tuned parents)")
    ap.add_argument('networks', nargs='+', help="networks as chains of module runs, e.g. 'resnet56:00-18+resnet20:07-10'")
    ap.add_argument('--device', default=None, help="device (default: the comparison's)")
    a = ap.parse_args()
    try: main(a.out, a.networks, a.device)
    except ValueError as e: raise SystemExit(f'error: {e}')
