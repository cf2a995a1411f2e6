"""Searches over a layer's mapping space, by name in `registry.SEARCHES` (docs/architecture.md).

- `bnb`: the proof, a branch and bound over the exhaustive enumeration, fed by a supplier (`supply`);
- `cpsat_model`: the CP-SAT model of the space, the default supplier of candidates and a bound;
- `exhaustive`, `table_search`, `tables`, `fallback`: the enumeration every search and count shares;
- `auto`: the seed's heuristic; `bounds`: certified lower bounds; `floors`: what every mapping pays;
  `outcome`: results of searches;
- `explain`: which custom constraints conflict when no mapping is valid.
"""
