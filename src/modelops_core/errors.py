"""The error tree of modelops-core.

Every error says what failed, where, and what to do next. Embedding platforms catch
:class:`ModelOpsError`; nothing in the core calls ``sys.exit`` or prints.
"""

from __future__ import annotations

from collections.abc import Iterable


class ModelOpsError(Exception):
    """Base class of every error raised by modelops-core and its plugins."""


# --- plugins ---------------------------------------------------------------------------------


class PluginError(ModelOpsError):
    """A plugin could not be loaded or registered.

    :param plugin: the plugin (entry-point) name.
    :param distribution: the distribution that ships it, with its version when known.
    """

    def __init__(self, message: str, *, plugin: str, distribution: str = "") -> None:
        super().__init__(message)
        self.plugin = plugin
        self.distribution = distribution


class PluginLoadError(PluginError):
    """A plugin's module failed to import or its entry point is not loadable."""


class UnknownPluginError(PluginLoadError):
    """``[plugins] load`` or ``MODELOPS_LOAD_PLUGINS`` names a plugin that is not installed."""


class PluginHookError(PluginError):
    """A plugin implements a hook that does not exist or with the wrong arguments."""


class PluginRegistrationError(PluginError):
    """A plugin's registration hook raised or registered something invalid."""


class DuplicateComponentError(PluginError):
    """Two plugins registered a component of the same kind under the same name."""


class IncompatiblePluginError(PluginError):
    """A plugin declares a ``modelops-core`` version range the installed core is not in."""


# --- components ------------------------------------------------------------------------------


class ComponentError(ModelOpsError):
    """A component could not be found, configured or created."""


class UnknownComponentError(ComponentError):
    """No plugin registered a component of that kind and name."""


class ComponentOptionError(ComponentError):
    """Options given to a component do not match its factory's signature."""


class ComponentImportError(ComponentError):
    """A component's ``"module:attr"`` factory could not be imported."""


# --- configuration ---------------------------------------------------------------------------


class ConfigError(ModelOpsError):
    """The configuration is unreadable or invalid. The message names the file and key."""


class ConfigFileError(ConfigError):
    """The configuration file is missing, unreadable or not valid TOML."""


class UnknownConfigKeyError(ConfigError):
    """A configuration key the schema does not know."""


class ConfigTypeError(ConfigError):
    """A configuration value has the wrong type."""


class MissingSecretError(ConfigError):
    """A ``{ env = "NAME" }`` secret names an environment variable that is not set."""


# --- lifecycle -------------------------------------------------------------------------------


class VetoError(ModelOpsError):
    """A ``modelops_before_*`` hook refused the operation; the message carries its reason."""

    def __init__(self, message: str, *, reason: str, plugin: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.plugin = plugin


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word``, for "did you mean …" hints, or None."""
    import difflib

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` when a close candidate exists, else the empty string."""
    match = closest(word, candidates)
    return f" Did you mean {match!r}?" if match else ""


# --- evaluation ------------------------------------------------------------------------------


class EvaluationError(ModelOpsError):
    """Evaluation input that cannot be used; the message names the record or column."""


class MetricInputError(EvaluationError, ValueError):
    """Predictions, references, scores, groups, labels or weights a metric cannot use.

    The one error of bad metric input, raised by the shared checks of
    :mod:`modelops_core.evaluation.inputs` that every metric (the core's, ``modelops-metrics``
    and third-party ones) calls; the message names the argument, the counts and what to do.
    ``modelops_core.evaluation.inputs.EvaluationInputError`` and
    ``modelops_metrics._validation.MetricInputError`` are this class under older names. A
    ``ValueError`` too, so code written against scikit-learn's errors keeps working.

    :param argument: the argument (or CLI option) at fault, e.g. ``"references"``; None when
        no single argument is (an empty mergeable state, a merge of unlike states).
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument

    def __reduce__(self) -> tuple[object, ...]:
        # keyword-only arguments are lost by BaseException's pickling; keep them
        return (_rebuild_metric_input_error, (type(self), str(self), self.argument))


def _rebuild_metric_input_error(
    cls: type[MetricInputError], message: str, argument: str | None
) -> MetricInputError:
    return cls(message, argument=argument)
