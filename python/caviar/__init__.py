"""caviar in Python: the C++ tuner's studies, in Optuna's shape.

    import caviar

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        units = trial.suggest_int("units", 16, 512, log=True)
        ...
        return val_loss

    study = caviar.Study(storage="sqlite:///caviar.db", name="mlp",
                         space={"lr": {"type": "float", "low": 1e-5, "high": 1e-1, "scale": "log"},
                                "units": {"type": "int", "low": 16, "high": 512, "scale": "log"}})
    study.optimize(objective, n_trials=50, n_jobs=2)
    print(study.best_params)

The store is the command line's: `caviar tune` continues a study started here and `caviar
report` draws it, and the other way round. Sampling, pruning and storing run in C++ with
the GIL released; only the objective runs in Python. See docs/python.md.
"""
from __future__ import annotations

import datetime as _datetime
import enum as _enum
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union

from . import _caviar
from ._caviar import ConfigError, Error, StorageError, Trial, TrialPruned, UsageError

__version__: str = _caviar.__version__

__all__ = [
    "Study", "Trial", "FrozenTrial", "TrialState", "TrialPruned",
    "Error", "ConfigError", "UsageError", "StorageError",
]


class TrialState(_enum.Enum):
    """A trial's state, with Optuna's names and numbers (caviar stores Optuna's schema)."""

    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4

    def is_finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


_STATES = {"running": TrialState.RUNNING, "complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED,
           "failed": TrialState.FAIL, "waiting": TrialState.WAITING}


def _time(seconds: Optional[float]) -> Optional[_datetime.datetime]:
    return None if seconds is None else _datetime.datetime.fromtimestamp(seconds)


@dataclass(frozen=True)
class FrozenTrial:
    """A stored trial, read only (Optuna's FrozenTrial, for one objective).

    `params` holds the user's values (a choice as given, an int as int); `system_attrs`
    holds caviar's own attributes, such as "caviar:reason" for a failed trial.
    """

    number: int
    state: TrialState
    value: Optional[float]
    params: Dict[str, Any]
    intermediate_values: Dict[int, float]
    user_attrs: Dict[str, Any] = field(default_factory=dict)
    system_attrs: Dict[str, Any] = field(default_factory=dict)
    datetime_start: Optional[_datetime.datetime] = None
    datetime_complete: Optional[_datetime.datetime] = None

    @property
    def duration(self) -> Optional[_datetime.timedelta]:
        if self.datetime_start is None or self.datetime_complete is None:
            return None
        return self.datetime_complete - self.datetime_start

    @property
    def last_step(self) -> Optional[int]:
        return max(self.intermediate_values) if self.intermediate_values else None

    @classmethod
    def _from_dict(cls, d: Mapping[str, Any]) -> "FrozenTrial":
        return cls(number=d["number"], state=_STATES[d["state"]], value=d["value"], params=d["params"],
                   intermediate_values=d["intermediate_values"], user_attrs=d["user_attrs"],
                   system_attrs=d["system_attrs"], datetime_start=_time(d["datetime_start"]),
                   datetime_complete=_time(d["datetime_complete"]))


class Study(_caviar.Study):
    """A study in a caviar (or Optuna) store, opened or created.

    Args:
        storage: "memory" (the default: this process only), "sqlite:///path.db" or
            "postgresql://user@host/db", as `caviar tune --storage` takes it.
        name: the study's name in the store (default "default").
        direction: "minimize" (default) or "maximize".
        space: the parameters, as the config file's `parameters:` mapping (docs/config.md):
            {"lr": {"type": "float", "low": 1e-5, "high": 1, "scale": "log"}, ...}. Declared
            parameters are sampled together by caviar's sampler when a trial starts; a
            parameter the objective asks for that is not declared is drawn on its own,
            uniformly on its scale.
        config: a study config file (YAML) instead of storage/space/sampler/pruner: its study,
            storage, direction, parameters, sampler, pruner and budget (its objective is not
            used). name and storage given here override the file's.
        sampler: "auto" (default), "tpe", "gp", "cmaes", "random", ... or the config's
            mapping, {"name": "tpe", "seed": 1, ...} (docs/samplers.md).
        pruner: None (default), "median", ... or the config's mapping,
            {"name": "asha", "reduction_factor": 3} (docs/pruners.md).
        allow_space_change: continue a stored study whose parameters were different.

    Raises caviar.ConfigError for a bad space, sampler or pruner (the messages of the
    config file), caviar.UsageError for a stored study with other parameters or direction,
    caviar.StorageError for a store that cannot be opened.
    """

    def __init__(self, storage: Optional[str] = None, name: Optional[str] = None,
                 direction: Optional[str] = None, space: Optional[Mapping[str, Mapping[str, Any]]] = None,
                 config: Optional[str] = None, sampler: Union[str, Mapping[str, Any], None] = None,
                 pruner: Union[str, Mapping[str, Any], None] = None, allow_space_change: bool = False) -> None:
        super().__init__(storage=storage, name=name, direction=direction,
                         space=dict(space) if space is not None else None,
                         config=None if config is None else str(config),
                         sampler=sampler, pruner=pruner, allow_space_change=allow_space_change)

    # ask(), tell(), optimize() and enqueue_trial() are the extension's (see _caviar.pyi).

    def __repr__(self) -> str:
        return f"<caviar.Study {self.study_name!r} in {self.storage_url}>"

    @property
    def trials(self) -> List[FrozenTrial]:
        """Every trial of the study, in number order, as stored now."""
        return [FrozenTrial._from_dict(d) for d in self._trials()]

    def get_trials(self, states: Optional[Iterable[TrialState]] = None) -> List[FrozenTrial]:
        """The trials, or those in `states`."""
        trials = self.trials
        if states is None:
            return trials
        wanted = set(states)
        return [t for t in trials if t.state in wanted]

    @property
    def best_trial(self) -> FrozenTrial:
        """The best complete trial (caviar's one rule: complete with a finite value).

        Raises caviar.UsageError (a ValueError, as Optuna raises) while none has completed."""
        best = self._best()
        if best is None:
            raise UsageError(f"study '{self.study_name}': no trial has completed yet")
        return FrozenTrial._from_dict(best)

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    @property
    def best_params(self) -> Dict[str, Any]:
        return self.best_trial.params

    @property
    def direction(self) -> str:
        """"minimize" or "maximize"."""
        return self.direction_name

    def trials_dataframe(self) -> Any:
        """The trials as a pandas DataFrame, one row per trial, with Optuna's columns:
        number, value, datetime_start, datetime_complete, duration, params_<name>, state
        (and intermediate values are left out). Needs pandas."""
        import pandas as pd

        rows = []
        for t in self.trials:
            row: Dict[str, Any] = {"number": t.number, "value": t.value, "datetime_start": t.datetime_start,
                                   "datetime_complete": t.datetime_complete, "duration": t.duration}
            for name, value in t.params.items():
                row[f"params_{name}"] = value
            row["state"] = t.state.name
            rows.append(row)
        return pd.DataFrame(rows)


def create_study(**kwargs: Any) -> Study:
    """caviar.Study(**kwargs), under Optuna's name for it."""
    return Study(**kwargs)


def load_study(*, study_name: str, storage: str, **kwargs: Any) -> Study:
    """An existing study (with Optuna's argument names); its stored space is kept unless
    `space` is given."""
    return Study(storage=storage, name=study_name, **kwargs)
