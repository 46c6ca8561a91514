"""Neural architecture search that reuses trained networks: cut pretrained CNNs into modules, store them, stitch new networks, search with NSGA-II.

Modules:

- `modulenas.assemble`: Turn a candidate into a network: load its modules, join modules of different origin with 1x1 adapters fitted in closed form onto the parents' own features, re-estimate BatchNorm, optionally refine adapters and classifier.
- `modulenas.data`: CIFAR-10/100 (or any image folder) as uint8 tensors kept on the device, with seeded train / calibration / validation splits and per-model normalisation.
- `modulenas.evaluate`: Score a candidate network without retraining its convolutions: raw, stitched and refined validation accuracy, parameters, FLOPs and measured latency, fast on a GPU and honest on a CPU.
- `modulenas.export`: A chosen network as a standalone folder (JSON graph specs + safetensors weights, no knowledge base needed), as ONNX, and a fair fine-tuning comparison of finalists on the test split.
- `modulenas.pipeline`: The whole method from a shell: search, resume, fine-tune and export, and `modulenas-run`, which goes from the zoo to fine-tuned, exported winners in one command.
- `modulenas.search`: Multi-objective architecture search over the knowledge base with pymoo's NSGA-II: an integer encoding with repair, duplicate elimination, an evaluation cache, a checkpoint every generation, resume after a crash and a random-search baseline at equal budget."""

__version__ = "0.0.1"
