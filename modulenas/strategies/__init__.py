"""The built-in search strategies, one module each; importing one registers it with `modulenas.search`.

`modulenas.strategies.nsga2` (NSGA-II through pymoo), `modulenas.strategies.random_search` (the baseline),
`modulenas.strategies.splice` (NSGA-II on runs of consecutive modules), `modulenas.strategies.dna` (block-wise
distillation scores), `modulenas.strategies.growth` (networks grown depth by depth) and
`modulenas.strategies.surrogate` (a learned accuracy predictor decides what to evaluate). A strategy of another
package registers itself the same way (`modulenas.search.register_strategy`) or through the entry-point group
`modulenas.strategies`."""
