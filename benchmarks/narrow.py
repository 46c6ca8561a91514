"""Narrowed networks before any fine-tuning (lever 4, `modulenas.narrow`): each model of the zoo and its narrowed
copies (`modulenas-build-kb --widths`), their parameters and validation accuracy as they come and with BatchNorm
re-estimated on the calibration images (what the evaluator does from a network's first narrowed module on).

    python benchmarks/narrow.py --models resnet20 --widths 0.5,0.75 --out benchmarks/results/narrow.json
"""
from __future__ import annotations
import json, tempfile, time
from pathlib import Path

import torch
from fastcore.script import call_parse

from modulenas.arch import from_parent
from modulenas.assemble import assemble, recalibrate_bn
from modulenas.cli import build_kb_main
from modulenas.data import accuracy, get_splits
from modulenas.kb import KnowledgeBase


@call_parse
def main(models: str = 'resnet20',  # zoo models (a glob pattern)
         widths: str = '0.5,0.75',  # shares of the inner channels kept
         n_calib: int = 1000,  # calibration images BatchNorm is re-estimated on (training set)
         n_val: int = 2000,  # validation images (the validation half of the test set)
         out: str = 'benchmarks/results/narrow.json',  # the JSON results
         threads: int = 2,  # torch CPU threads
        ):
    "Print and write each network's parameters and accuracy, as it comes and with BatchNorm re-estimated."
    torch.set_num_threads(threads)
    data = get_splits('cifar10', n_calib=n_calib, n_val=n_val, seed=0, protocol='test-half')
    rows, t0 = [], time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        build_kb_main(str(Path(d)/'kb'), models, offline=True, progress=False, widths=widths)
        with KnowledgeBase(Path(d)/'kb') as kb:
            for m in kb.models():
                net = assemble(from_parent(kb, m), kb).eval()
                raw = accuracy(net, data.val, net.mean, net.std, batch_size=250)
                recalibrate_bn(net, data.calib.images)
                bn = accuracy(net.eval(), data.val, net.mean, net.std, batch_size=250)
                rows.append(dict(network=m, params=kb.model_meta(m)['params'], narrowed=kb.model_meta(m).get('narrowed'),
                                 val_raw=raw, val_bn=bn))
                print(f"{m:24s} {rows[-1]['params']:9,d} params  val as it comes {raw:.4f}  BatchNorm re-estimated {bn:.4f}", flush=True)
    report = dict(args=dict(models=models, widths=widths, n_calib=n_calib, n_val=n_val), rows=rows,
                  seconds=time.perf_counter() - t0, torch=torch.__version__)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=1) + '\n')
    print(f'wrote {out}')
