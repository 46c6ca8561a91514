"""The pretrained parents: a registry of models with their model cards (`data/zoo.json`), one module per family, and
their weights found, checked and loaded.

`modulenas.zoo.registry` (`register_model`, `list_models`, `get_entry`, the model cards), `modulenas.zoo.resnet`
(the two CIFAR ResNet lineages), `modulenas.zoo.shufflenet` (ShuffleNetV2 x0.5 for 32x32 inputs),
`modulenas.zoo.weights` (hash checks, local files and downloads, `create_model`) and `modulenas.zoo.tables` (the zoo
as a table, its accuracy measured). Importing this package, or any of its parts, registers every built-in model."""
from . import registry, resnet, shufflenet, weights, tables  # noqa: F401 (the families register their models)
from .registry import *  # noqa: F401,F403
from .registry import _registered  # noqa: F401 (modulenas.ingest)
from .resnet import *  # noqa: F401,F403
from .shufflenet import *  # noqa: F401,F403
from .weights import *  # noqa: F401,F403
from .tables import *  # noqa: F401,F403

__all__ = [*registry.__all__, *resnet.__all__, *shufflenet.__all__, *weights.__all__, *tables.__all__]
