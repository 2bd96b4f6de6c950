"""Does a model fit the data? One dry forward pass of the network on an input of the data's shape and kind,
before any work, so that a mismatched pair fails with both names instead of deep inside a layer."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from compresslab.utils.errors import ConfigError


def takes_tokens(net: nn.Module) -> bool:
    """Whether ``net.forward`` takes token ids (``input_ids``: a transformers-style text model)."""
    try:
        return "input_ids" in inspect.signature(net.forward).parameters
    except (TypeError, ValueError):
        return False


def gives_tokens(dataset: Any) -> bool:
    """Whether a dataset reader (instance or class) yields token ids rather than float features / images.

    A text reader is a ``TextPairSource``; when its module was never imported, no reader can be one (and the NLU
    stack is not loaded for a vision or tabular run)."""
    text = sys.modules.get("compresslab.data.nlu.source")
    cls = dataset if inspect.isclass(dataset) else type(dataset)
    return text is not None and issubclass(cls, text.TextPairSource)


def vocab_size(net: nn.Module) -> int:
    """Rows of the first embedding table (the word embeddings of a BERT-style model); 2 when there is none."""
    emb = next((m for m in net.modules() if isinstance(m, nn.Embedding)), None)
    return int(emb.num_embeddings) if emb is not None else 2


def example_input(net: nn.Module, input_shape: Sequence[int], batch_size: int = 1) -> torch.Tensor:
    """An input of ``[batch_size, *input_shape]`` of the kind ``net`` takes: token ids in its vocabulary for a
    text model, standard-normal floats otherwise."""
    shape = (batch_size, *(int(s) for s in input_shape))
    generator = torch.Generator().manual_seed(0)  # a private stream: the run's seeded RNG is left untouched
    if takes_tokens(net):
        return torch.randint(1, max(vocab_size(net), 2), shape, generator=generator)
    return torch.randn(shape, generator=generator)


def _describe(tokens: bool, shape: Sequence[int]) -> str:
    return (
        f"token ids of length {shape[0]}" if tokens and len(shape) == 1 else f"inputs of shape {list(shape)}"
    )


def check_model_fits_data(
    net: nn.Module, input_shape: Sequence[int], data_tokens: bool, model_name: str, data_name: str
) -> None:
    """Run ``net`` once on a batch of 2 inputs like the data's; raise a :class:`ConfigError` naming the pair.

    Raises:
        ConfigError: the model takes token ids and the data gives features (or the reverse), or the forward
            pass fails on the data's input shape (the original error is quoted).
    """
    model_tokens = takes_tokens(net)
    pair = f"model {model_name} and data {data_name}"
    if model_tokens != data_tokens:
        wants = "token ids (a text model)" if model_tokens else "float features or images"
        gives = _describe(data_tokens, input_shape) + (" (text)" if data_tokens else "")
        raise ConfigError(
            "model",
            model_name,
            f"a model for {data_name}, which gives {gives}; {model_name} takes {wants}",
            f"{pair} do not fit: pick a model config for this data (or data=<one this model reads>).",
        )
    x = example_input(net, input_shape, batch_size=2)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(x)
    except Exception as e:  # any failure of the dry run is a mismatch of the pair; quote it
        raise ConfigError(
            "model",
            model_name,
            f"a model that takes {_describe(data_tokens, input_shape)} (what {data_name} gives)",
            f"{pair} do not fit ({type(e).__name__}: {str(e).splitlines()[0][:200]}); set the model's input "
            "size to the data's (e.g. model.net.in_features) or choose the model config made for this data.",
        ) from e
    finally:
        net.train(was_training)
