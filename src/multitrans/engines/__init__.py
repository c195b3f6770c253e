"""Translation engines, loaded by the `engine:` name a model has in models.yaml.

Engine modules import torch, which takes seconds; they are imported only when a
model of theirs is actually loaded, so `multitrans --help` stays instant.
"""

from __future__ import annotations

import importlib

from .base import Engine, EngineError, EngineOptions, ModelSpec, ModelUnavailable
from .hubcache import surely_absent, unavailable_message
from .identity import CONVERTIBLE

__all__ = ["ENGINES", "Engine", "EngineError", "EngineOptions", "ModelSpec", "ModelUnavailable", "load_engine"]

# engine name -> (module, class)
ENGINES: dict[str, tuple[str, str]] = {
    "marian": ("multitrans.engines.marian", "MarianEngine"),
    "nllb": ("multitrans.engines.nllb", "NllbEngine"),
    "apertium": ("multitrans.engines.apertium", "ApertiumEngine"),
    "argos": ("multitrans.engines.argos", "ArgosEngine"),
}


def load_engine(spec: ModelSpec, options: EngineOptions) -> Engine:
    """Load the model `spec` describes with the engine it names (once per run)."""
    if spec.engine not in ENGINES:
        raise EngineError(
            f"Model {spec.name} names unknown engine {spec.engine!r}; known engines: {', '.join(sorted(ENGINES))}."
        )
    if spec.engine in CONVERTIBLE and spec.runtime != "transformers":
        # CTranslate2 when the model asks for it or a converted copy is here (see engines/ct2.py).
        from .ct2 import load_converted

        converted = load_converted(spec, options)
        if converted is not None:
            return converted
    if spec.engine in CONVERTIBLE and options.offline:
        # Their modules import torch and transformers (over a second): a model that is not here
        # is found out first, so that an offline run whose routes fall back to it never pays that.
        if surely_absent(spec, options.cache_dir):  # known without importing the Hub client
            raise ModelUnavailable(unavailable_message(spec, "offline mode"))
        from .hub import is_present, resolve_model_dir

        if not is_present(spec, options.cache_dir):
            resolve_model_dir(spec, options)  # raises ModelUnavailable, saying how to fetch it
    module_name, class_name = ENGINES[spec.engine]
    engine_class: type[Engine] = getattr(importlib.import_module(module_name), class_name)
    return engine_class(spec, options)
