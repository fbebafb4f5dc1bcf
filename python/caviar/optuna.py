"""caviar's samplers inside Optuna: drop-in `optuna.samplers.BaseSampler`s.

    import optuna
    from caviar.optuna import AutoSampler

    study = optuna.create_study(sampler=AutoSampler(seed=0))
    study.optimize(objective, n_trials=100)

Each trial, Optuna asks the sampler for the parameters that every finished trial has had so
far (the intersection search space, `infer_relative_search_space`); caviar's C++ sampler
proposes them together (`sample_relative`) from the study's history: complete trials with
their values, pruned ones with their intermediate values, running ones (which caviar's
samplers treat as pending), failed ones. A parameter outside that space (one that only
some trials have, under an `if`) is proposed on its own by caviar's TPE over the trials
that have it (`sample_independent`). The samplers are those of docs/samplers.md; their
settings are the config's keys (`TPESampler(startup=5)`, `GPSampler(candidates=256)`).

Written against Optuna 3.1 (Debian's python3-optuna); tested with in-memory and RDB studies.
"""
from __future__ import annotations

import random
import zlib
from typing import Any, Dict, List, Optional, Sequence, Tuple

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from . import _caviar

try:  # Optuna >= 3.2
    from optuna.search_space import IntersectionSearchSpace as _IntersectionSearchSpace
except ImportError:  # Optuna 3.1
    from optuna.samplers import IntersectionSearchSpace as _IntersectionSearchSpace

__all__ = ["CaviarSampler", "AutoSampler", "GPSampler", "TPESampler", "CmaEsSampler"]

_STATES = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned", TrialState.RUNNING: "running",
           TrialState.FAIL: "failed"}


def _definition(distribution: BaseDistribution) -> Optional[Dict[str, Any]]:
    """An Optuna distribution as caviar's parameter definition (docs/config.md), or None
    when caviar has no such parameter (one value only; a choice of None or of objects)."""
    if distribution.single():
        return None
    if isinstance(distribution, FloatDistribution):
        d: Dict[str, Any] = {"type": "float", "low": distribution.low, "high": distribution.high}
        if distribution.log:
            d["scale"] = "log"
        if distribution.step is not None:
            d["step"] = distribution.step
        return d
    if isinstance(distribution, IntDistribution):
        d = {"type": "int", "low": distribution.low, "high": distribution.high}
        if distribution.log:
            d["scale"] = "log"
        elif distribution.step != 1:
            d["step"] = distribution.step
        return d
    if isinstance(distribution, CategoricalDistribution):
        if all(isinstance(c, (bool, int, float, str)) for c in distribution.choices):
            return {"type": "choice", "values": list(distribution.choices)}
    return None


def _history(study: optuna.Study, space: Dict[str, BaseDistribution],
             current: int) -> List[Tuple[int, str, Optional[float], Dict[str, float], Dict[int, float]]]:
    """The study's trials that hold every parameter of `space` with the same distribution,
    as caviar's sampler reads them: (number, state, value, internal values, reports)."""
    out = []
    for t in study.get_trials(deepcopy=False):
        state = _STATES.get(t.state)
        if state is None or t.number == current:
            continue
        if any(t.distributions.get(name) != d for name, d in space.items()):
            continue
        params = {name: float(d.to_internal_repr(t.params[name])) for name, d in space.items()}
        value = t.value if t.state == TrialState.COMPLETE else None
        if t.state == TrialState.PRUNED:  # caviar's pruned trial: its last report
            value = t.value if t.value is not None else (
                t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else None)
        out.append((t.number, state, value, params, {int(k): float(v) for k, v in t.intermediate_values.items()}))
    return out


def _direction(study: optuna.Study) -> str:
    if len(study.directions) != 1:
        raise ValueError("caviar's samplers optimise one objective; this study has several")
    return "maximize" if study.direction == optuna.study.StudyDirection.MAXIMIZE else "minimize"


class CaviarSampler(optuna.samplers.BaseSampler):
    """One of caviar's samplers (`name`: auto, gp, tpe, cmaes, random, sobol, ...) for Optuna.

    Args:
        name: the sampler, as in the config's `sampler: {name: ...}`.
        seed: its seed (a whole number >= 0); None: a random one.
        **settings: the sampler's own settings, by the config's keys (docs/samplers.md).
    """

    def __init__(self, name: str = "auto", seed: Optional[int] = None, **settings: Any) -> None:
        self._name = name
        self._settings = settings
        self._search_space = _IntersectionSearchSpace(include_pruned=True)
        self._seed_with(seed)

    def _seed_with(self, seed: Optional[int]) -> None:
        self._seed = random.SystemRandom().randrange(2**31) if seed is None else int(seed)
        self._sampler = _caviar.Sampler({"name": self._name, "seed": self._seed, **self._settings})
        self._independent: Dict[str, Any] = {}  # one TPE per parameter name

    def __repr__(self) -> str:
        return f"caviar.optuna.CaviarSampler({self._name!r}, seed={self._seed})"

    def reseed_rng(self) -> None:
        self._seed_with(None)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> Dict[str, BaseDistribution]:
        return {name: d for name, d in self._search_space.calculate(study).items() if _definition(d) is not None}

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: Dict[str, BaseDistribution]) -> Dict[str, Any]:
        if not search_space:
            return {}
        space = {name: _definition(d) for name, d in search_space.items()}
        internal = self._sampler.suggest(space, _history(study, search_space, trial.number), trial.number,
                                         _direction(study))
        if internal is None:  # the sampler has nothing left (an exhausted grid)
            study.stop()
            return {}
        return {name: search_space[name].to_external_repr(v) for name, v in internal.items()}

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        definition = _definition(param_distribution)
        if definition is None:
            if param_distribution.single():
                return param_distribution.to_external_repr(
                    param_distribution.to_internal_repr(_single_value(param_distribution)))
            choices: Sequence[Any] = param_distribution.choices  # type: ignore[attr-defined]
            return random.Random(self._seed * 1_000_003 + trial.number).choice(list(choices))
        sampler = self._independent.get(param_name)
        if sampler is None:
            seed = (self._seed + zlib.crc32(param_name.encode())) % 2**63
            sampler = self._independent[param_name] = _caviar.Sampler({"name": "tpe", "seed": seed})
        one = {param_name: param_distribution}
        internal = sampler.suggest({param_name: definition}, _history(study, one, trial.number), trial.number,
                                   _direction(study))
        return param_distribution.to_external_repr(internal[param_name])


def _single_value(distribution: BaseDistribution) -> Any:
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[0]
    return distribution.low  # type: ignore[attr-defined]


class AutoSampler(CaviarSampler):
    """caviar's default: GP for up to 20 parameters and 1,000 trials, TPE beyond (docs/samplers.md#auto)."""

    def __init__(self, seed: Optional[int] = None, **settings: Any) -> None:
        super().__init__("auto", seed, **settings)


class GPSampler(CaviarSampler):
    """caviar's Gaussian-process sampler (docs/samplers.md#gp)."""

    def __init__(self, seed: Optional[int] = None, **settings: Any) -> None:
        super().__init__("gp", seed, **settings)


class TPESampler(CaviarSampler):
    """caviar's tree-structured Parzen estimator (docs/samplers.md#tpe)."""

    def __init__(self, seed: Optional[int] = None, **settings: Any) -> None:
        super().__init__("tpe", seed, **settings)


class CmaEsSampler(CaviarSampler):
    """caviar's CMA-ES with IPOP restarts (docs/samplers.md#cmaes)."""

    def __init__(self, seed: Optional[int] = None, **settings: Any) -> None:
        super().__init__("cmaes", seed, **settings)
