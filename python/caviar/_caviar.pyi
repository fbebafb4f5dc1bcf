# Type stubs of caviar's extension module (python/src/module.cpp). Users import `caviar`,
# which re-exports Trial and the exceptions and wraps Study (python/caviar/__init__.py).
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type, Union

__version__: str

class Error(Exception):
    """Base of the errors caviar raises on purpose; the text is "where: why"."""
class ConfigError(Error, ValueError):
    """A configuration or search space that cannot be used (nothing stored is touched)."""
class UsageError(Error, ValueError):
    """A request that does not fit the study (other parameters, a finished trial, ...)."""
class StorageError(Error, RuntimeError):
    """A storage that cannot be opened, read or written."""
class TrialPruned(Exception):
    """Raise it in an objective to stop a trial that should_prune() judged hopeless."""

class Trial:
    """A running trial: what the objective gets from optimize(), or ask() returns."""
    @property
    def number(self) -> int: ...
    @property
    def params(self) -> Dict[str, Any]:
        """The trial's parameters as user values: those the sampler chose and those asked so far."""
    def suggest_float(self, name: str, low: float, high: float, *, step: Optional[float] = None,
                      log: bool = False) -> float:
        """The value of float parameter `name`. A declared one must be asked with its declared
        bounds (UsageError otherwise); an undeclared one is drawn uniformly (on log scale with
        log=True) and stored with the trial."""
    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int: ...
    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...
    def report(self, value: float, step: int) -> None:
        """Stores an intermediate value; the study's pruner judges it (see should_prune)."""
    def should_prune(self) -> bool:
        """Whether the pruner judged the trial hopeless (or optimize() is stopping)."""

class Study:
    def __init__(self, storage: Optional[str] = None, name: Optional[str] = None,
                 direction: Optional[str] = None, space: Optional[Dict[str, Any]] = None,
                 config: Optional[str] = None, sampler: Union[str, Mapping[str, Any], None] = None,
                 pruner: Union[str, Mapping[str, Any], None] = None,
                 allow_space_change: bool = False) -> None: ...
    @property
    def study_name(self) -> str: ...
    @property
    def direction_name(self) -> str: ...
    @property
    def storage_url(self) -> str:
        """The store's URL, without its password."""
    @property
    def space(self) -> List[Dict[str, Any]]:
        """The declared parameters, as config definitions with their names, in order."""
    @property
    def sampler_options(self) -> Dict[str, Any]: ...
    def ask(self) -> Trial:
        """Starts a trial with the sampler's values for the declared parameters. Raises
        UsageError when the study's budget is used or the sampler has nothing left."""
    def tell(self, trial: Union[Trial, int], value: Optional[float] = None, state: Any = None) -> None:
        """Finishes a trial asked by ask(): complete with `value` (a NaN or infinite value
        stores it failed), or state "pruned" (value: default its last report) or "fail"
        (caviar.TrialState members and Optuna's also do). Raises UsageError for a trial
        that is not running."""
    def enqueue_trial(self, params: Dict[str, Any]) -> None:
        """Runs these values of the declared parameters before sampled ones."""
    def optimize(self, func: Callable[[Trial], float], n_trials: Optional[int] = None, n_jobs: int = 1,
                 timeout: Optional[float] = None, catch: Tuple[Type[BaseException], ...] = ()) -> None:
        """Runs `func` until n_trials more trials have started, `timeout` seconds have passed
        or the study's budget is used, n_jobs at a time (-1: one per core). An exception of a
        type in `catch` fails its trial and the run goes on; any other fails its trial and is
        raised once the running trials have ended. caviar.TrialPruned stores the trial pruned."""
    def _trials(self) -> List[Dict[str, Any]]: ...
    def _best(self) -> Optional[Dict[str, Any]]: ...
    def _counts(self) -> Dict[str, int]: ...

class Sampler:
    """One of caviar's samplers (make_sampler), asked with a space and a history."""
    def __init__(self, options: Union[str, Mapping[str, Any]]) -> None: ...
    @property
    def name(self) -> str: ...
    def suggest(self, space: Dict[str, Dict[str, Any]],
                trials: List[Tuple[int, str, Optional[float], Dict[str, float], Dict[int, float]]],
                number: int, direction: str) -> Optional[Dict[str, float]]:
        """The internal values (a choice's index) of the next trial's parameters: `trials`
        holds (number, state, value, internal params, intermediate values) per trial."""
