"""Neural architecture search that reuses trained networks: cut pretrained CNNs into modules, store them, stitch new networks, search them with pluggable strategies.

The names a user needs come from the package itself, each imported on first use:
`from modulenas import KnowledgeBase, Candidate, Evaluator, EvalConfig, SearchConfig, Strategy, register_strategy, RunSpec, search_main, load_network`
(the functions `search` and `assemble` live in the modules of the same names).

The modules in pipeline order: `modulenas.core` (paths, devices, seeds, records, progress bars), `modulenas.data`
(images and honest splits), `modulenas.zoo` (the pretrained parents and their model cards, `data/zoo.json`), `modulenas.graphspec` and
`modulenas.decompose` (torch.fx graphs cut into modules), `modulenas.kb` (the knowledge base's storage), `modulenas.ingest` (cutting networks into it), `modulenas.arch`
(candidates), `modulenas.assemble` (stitching), `modulenas.evaluate` (scores and costs), `modulenas.scores` (scores beyond accuracy, as plug-ins), `modulenas.testing`
(weightless stand-ins for tests), `modulenas.search` with the strategies `modulenas.strategies.nsga2`,
`modulenas.strategies.random_search`, `modulenas.strategies.splice`, `modulenas.strategies.dna`, `modulenas.strategies.growth` and `modulenas.strategies.surrogate`, `modulenas.adwp` (predicted stitching adapters, screening), `modulenas.cli`, `modulenas.spec` (a run's setup as plain data, rebuilt anywhere), `modulenas.export`, `modulenas.pipeline` (the app wiring and the
console scripts) and `modulenas.distributed` (evaluation on Ray).

Modules:

- `modulenas.adapt`: Between batches of a search on a new task, the modules the best candidates use most are fine-tuned on the task's training images and stored as new versions in the knowledge base; later candidates are built from them.
- `modulenas.assemble`: Turn a candidate into a network: load its modules, join modules of different origin with 1x1 adapters fitted in closed form onto the parents' own features, re-estimate BatchNorm, optionally refine adapters and classifier.
- `modulenas.data`: CIFAR-10/100 (or any image folder) as uint8 tensors kept on the device, with seeded train / calibration / validation splits and per-model normalisation.
- `modulenas.distributed`: Candidates scored on a Ray cluster: each worker opens the knowledge base by path, builds its own data and evaluator (with its own teacher-feature cache) and returns plain records; the driver alone writes the archive.
- `modulenas.evaluate`: Score a candidate network without retraining its convolutions: raw, stitched and refined validation accuracy, parameters, FLOPs and measured latency, fast on a GPU and honest on a CPU.
- `modulenas.export`: A chosen network as a standalone folder (JSON graph specs + safetensors weights, no knowledge base needed), as ONNX, and a fair fine-tuning comparison of finalists on the test split.
- `modulenas.narrow`: Width as a gene: a module with a fraction of its inner channels kept, chosen by how much each matters (the scale of the BatchNorm after it), its interface left as it was, so that it stands where the original stood.
- `modulenas.pipeline`: The whole method from a shell: search, resume, fine-tune and export, and `modulenas-run`, which goes from the zoo to fine-tuned, exported winners in one command.
- `modulenas.search`: Multi-objective architecture search over the knowledge base: an integer encoding with repair, one archive that caches every evaluation, search strategies as plug-ins (NSGA-II, random search, splice, dna, growth and surrogate built in) that ask for batches and are told their results, a checkpoint after every batch, exact resume after a crash, and every strategy measured at the same budget against the same reference point.
- `modulenas.spec`: How a run's knowledge base, data and evaluator are written down as plain data (in its `config.json`) and rebuilt from it: in this process for a search or a resume, in a Ray worker, or for fine-tuning and export.
- `modulenas.strategies.growth`: A strategy that grows networks from one module per resolution stage to the deepest parent's depth, evolving a population at every depth and keeping, in the slots already grown, only the modules the elite of that depth uses.
- `modulenas.strategies.nsga2`: NSGA-II (pymoo) as a search strategy: repair, sampling and duplicate elimination on the candidate encoding, driven by ask and tell, its population and random generator checkpointed as plain data.
- `modulenas.strategies.random_search`: The baseline every other strategy has to beat: the parents, then uniform random genes repaired into valid candidates, each candidate at most once, at the same budget as the others.
- `modulenas.strategies.splice`: NSGA-II whose children keep runs of one parent's consecutive modules: parents with a few edits to start from, two-point crossover on aligned slots, and mutations that splice in a run of another parent's modules, drop one module or repeat one.
- `modulenas.strategies.surrogate`: A strategy that spends true evaluations only where a learned accuracy predictor says they pay: after a set of initial evaluations, each batch is proposed by NSGA-II run on the predictor that ranks the archive best under cross-validation (radial basis functions, a Gaussian process, an MLP or a random forest).
- `modulenas.testing`: A knowledge base with the module layout of two CIFAR ResNets and an evaluator that scores a candidate from its layout, with no weights and no data: the search's tests, and those of any new strategy, run in seconds.
- `modulenas.train`: The one training loop: refinement (adapters, BatchNorm and classifier), fine-tuning (every weight) and any later training share it, and differ only in which parameters train, the optimiser and schedule, and the loss."""

__version__ = "0.0.1"

_EXPORTS = {
    'get_splits': 'data', 'DataSplits': 'data',
    'register_model': 'zoo', 'list_models': 'zoo', 'create_model': 'zoo',
    'KnowledgeBase': 'kb',
    'Candidate': 'arch', 'from_parent': 'arch', 'validate': 'arch',
    'EvalConfig': 'evaluate', 'Evaluator': 'evaluate', 'EvalResult': 'evaluate',
    'SearchConfig': 'search', 'SearchSpace': 'search', 'SearchResult': 'search', 'resume': 'search',
    'search_space': 'search', 'Strategy': 'search', 'register_strategy': 'search',
    'load_plugins': 'search',
    'export_network': 'export', 'load_network': 'export', 'export_onnx': 'export',
    'search_main': 'pipeline', 'resume_main': 'pipeline', 'finetune_main': 'pipeline', 'run_main': 'pipeline',
    'PipelineSpec': 'pipeline', 'RunSpec': 'spec',
    'RayEvaluator': 'distributed',
    'AdapterPredictor': 'adwp', 'ScreenedEvaluator': 'adwp',
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    "Import the module that defines `name` on first use."
    if name not in _EXPORTS: raise AttributeError(f"module 'modulenas' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f'modulenas.{_EXPORTS[name]}'), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
