"""Model names -> where their weights come from.

A model partition key is a short name. It resolves, in this order, through the models added
with `rft models add NAME --from SOURCE` (kept in `$RFT_HOME/models.json`), the `models:`
section of the config, and the built-in tiny configs. An unknown name is an error that lists
what is known.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from rft.config.rft_config import RftConfig
from rft.home import Home
from rft.models.registry import TINY_CONFIGS, ModelSpec, resolve_model_spec
from rft.models.model_names import MODEL_NAME


class UnknownModelError(KeyError):
    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


def check_model_name(name: str) -> str:
    if not MODEL_NAME.match(name):
        raise ValueError(
            f"invalid model name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with "
            "a letter or digit (give the hub id, folder or GGUF file with --from)"
        )
    return name


class ModelCatalog:
    def __init__(self, home: Home, config: RftConfig):
        self.home, self.config = home, config

    def added(self) -> dict[str, dict]:
        try:
            return json.loads(self.home.model_registry.read_text())
        except FileNotFoundError:
            return {}

    def known(self) -> list[str]:
        return sorted({*self.added(), *self.config.models, *TINY_CONFIGS})

    def spec(self, name: str) -> ModelSpec:
        for table in (self.added(), self.config.models):
            if name in table:
                return resolve_model_spec({"name": name, **table[name]})
        if name in TINY_CONFIGS:
            return resolve_model_spec(name)
        raise UnknownModelError(
            f"unknown model {name!r}. Known: {', '.join(self.known())}. "
            f"Add one with: rft models add {name} --from <hub id | folder | file.gguf | tiny name>"
        )

    def add(self, name: str, source: str | None = None) -> ModelSpec:
        """Record `name` -> `source`; with no source the name itself must resolve."""
        check_model_name(name)
        if source is None:
            return self.spec(name)
        spec = resolve_model_spec(source)
        spec.name = name
        entry = {k: v for k, v in asdict(spec).items() if v not in (None, {}) and k != "name"}
        added = self.added()
        added[name] = entry
        self.home.root.mkdir(parents=True, exist_ok=True)
        tmp = self.home.model_registry.with_suffix(".tmp")
        tmp.write_text(json.dumps(added, indent=2, sort_keys=True))
        tmp.replace(self.home.model_registry)
        return spec
