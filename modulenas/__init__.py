"""Neural architecture search that reuses trained networks: cut pretrained CNNs into modules, store them, stitch new networks, search with NSGA-II.

Modules:

- `modulenas.assemble`: Turn a candidate into a network: load its modules, join modules of different origin with 1x1 adapters fitted in closed form onto the parents' own features, re-estimate BatchNorm, optionally refine adapters and classifier.
- `modulenas.data`: CIFAR-10/100 (or any image folder) as uint8 tensors kept on the device, with seeded train / calibration / validation splits and per-model normalisation.
- `modulenas.evaluate`: Score a candidate network without retraining its convolutions: raw, stitched and refined validation accuracy, parameters, FLOPs and measured latency, fast on a GPU and honest on a CPU."""

__version__ = "0.0.1"
