"""Benchmark compresslab's vectorised RNNPool operator against EdgeML's own PyTorch RNNPool (or an in-repo reference).

Usage::

    python benchmarks/rnnpool_operator.py --threads 2 --edgeml /tmp/EdgeML   # against the authors' code
    python benchmarks/rnnpool_operator.py --threads 2            # against the in-repo reference (below)
    python benchmarks/rnnpool_operator.py --device cuda --repeats 20

``--edgeml DIR`` points at a local checkout of https://github.com/microsoft/EdgeML (the repository root, or its
``pytorch/`` folder); ``edgeml_pytorch.graph.rnnpool.RNNPool`` is imported from there at run time (nothing of
EdgeML is part of this repository; PyPI's ``edgeml-pytorch`` 0.3.0 has no ``rnnpool`` module). Both operators
get the same weights (EdgeML stores W, U as [in, h]: our [h, in] transposed; its biases [1, h], ζ, ν [1, 1]),
and EdgeML's layer is driven the way its vision models drive it (``model_mobilenet_rnnpool.py``): ``nn.Unfold``
patches, unbound and concatenated position-major into [L·B, k, r, c], ``RNNPool(patches, L·B)``, the outputs
stacked back to [B, 4·h2, L], folded to [B, 4·h2, P, Q] and replicate-padded to ceil(H/s). EdgeML's RNNPool
takes square patches and FastGRNN cells only.

*Ours* is :class:`compresslab.rnnpool.operator.RNNPoolLayer`: W·x is computed once per pixel of the whole map,
every patch, every row/column sequence and all four RNN2 sweeps run as one batch, and the only Python loop
is over the r (or c) time steps.

*In-repo reference* (without ``--edgeml``) is an independent re-implementation of the algorithm of the EdgeML PyTorch RNNPool
(Microsoft EdgeML, ``RNNPool`` + ``FastGRNNCell`` + the unfold/fold wrapper of its vision models), written
here from a description of that algorithm, not from EdgeML's code. It follows EdgeML's structure:

* patches are cut with ``F.unfold`` (kernel = patch, stride) and unbound/concatenated position-major into a
  patch batch [L·B, k, r, c] (patch index = position·B + image);
* pass 1: the batch is split along the column axis and concatenated along the batch → [c·N, k, r]; RNN1 runs
  a Python loop over the r rows, each step computing x·W + h·U (the input projection inside the loop, every
  step, as EdgeML's cell does) and the FastGRNN update; the final states, split back into c summaries of
  batch N, form a sequence over the columns on which RNN2 runs a forward loop, then a separate backward loop
  over the reversed sequence (the same cell) → column outputs;
* pass 2: the same with rows and columns swapped → row outputs;
* output [rows-fwd, rows-bwd, cols-fwd, cols-bwd] per patch, folded back to [B, 4·h2, P, Q] and
  replicate-padded to ceil(H/stride) like ``RNNPoolLayer(pad_output=True)``.

The reference keeps only the final state of each recurrence (EdgeML's RNN returns the states of every
time step and takes the last, a little more work), so the reported speed-up is if anything conservative.
It implements the FastGRNN cell only: with ``--cell gru|lstm`` only ours is timed.

The reference reads its weights from the same ``RNNPoolLayer`` instance, whose parameters are first re-drawn
(random biases, ζ and ν) so that every term of the FastGRNN update matters in the equality check. Forward
passes are timed under ``torch.inference_mode``; forward+backward passes (loss = Σ out·g for a fixed random g)
are timed with gradients for the input and all parameters, and those gradients are compared as well.

Prints a table (case, ours ms, reference ms, reference/ours, max |ours − reference|) and, as its last line, a
JSON object with the same figures. Exits with status 1 if outputs (or gradients) differ beyond tolerance.

CPU timings need a quiet machine: with ``--threads`` equal to the core count, one other busy process can
slow both implementations 10-30x (threads wait on each other). Ours and the reference are timed interleaved
so that such noise hits both alike, but rerun if the figures look off.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from compresslab.rnnpool.operator import CELLS, FastGRNNCell, RNNPoolLayer


# ------------------------------------------------------------------------------------------------- reference
class _FastGRNNRef:
    """A FastGRNN cell in EdgeML's layout (W [in, h], U [h, h]) bound to one of our cells' parameters.

    The transposed views and σ(ζ), σ(ν) are taken once per forward call, as EdgeML's cell reads its own
    [in, h] parameters; everything else is recomputed at every time step.
    """

    def __init__(self, cell: FastGRNNCell) -> None:
        self.w = cell.weight_ih.t()  # [in, h]
        self.u = cell.weight_hh.t()  # [h, h]
        self.bias_gate = cell.bias_gate
        self.bias_update = cell.bias_update
        self.zeta = torch.sigmoid(cell.zeta)
        self.nu = torch.sigmoid(cell.nu)
        self.hidden_size = cell.hidden_size

    def step(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        pre = torch.matmul(x, self.w) + torch.matmul(h, self.u)  # input projection inside the time loop
        z = torch.sigmoid(pre + self.bias_gate)
        c = torch.tanh(pre + self.bias_update)
        return z * h + (self.zeta * (1.0 - z) + self.nu) * c

    def final_state(self, seq: torch.Tensor) -> torch.Tensor:
        """Time-major sequence [T, B, in] → final state [B, h] from a zero initial state."""
        h = seq.new_zeros(seq.shape[1], self.hidden_size)
        for t in range(seq.shape[0]):  # per-step Python loop
            h = self.step(seq[t], h)
        return h


def _reference_pool(layer: RNNPoolLayer, patches: torch.Tensor) -> torch.Tensor:
    """EdgeML-style RNNPool on a patch batch [N, k, r, c] → [N, 4·h2]."""
    rnn1, rnn2 = _FastGRNNRef(layer.pool.rnn1), _FastGRNNRef(layer.pool.rnn2)
    n = patches.shape[0]

    def one_pass(split_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
        # Split along ``split_dim`` (3: columns, 2: rows) and stack the pieces along the batch:
        # [S·N, k, T]; RNN1 then runs over the remaining spatial axis (T steps), time-major [T, S·N, k].
        stacked = torch.cat(torch.unbind(patches, dim=split_dim), dim=0)
        finals = rnn1.final_state(torch.stack(torch.unbind(stacked, dim=2)))  # [S·N, h1]
        summaries = torch.stack(torch.split(finals, n, dim=0))  # [S, N, h1]: a sequence of S summaries
        forward = rnn2.final_state(summaries)  # RNN2 forward loop
        backward = rnn2.final_state(summaries.flip(0))  # separate loop over the reversed sequence
        return forward, backward

    cols_fwd, cols_bwd = one_pass(split_dim=3)  # RNN1 down every column, RNN2 across the columns
    rows_fwd, rows_bwd = one_pass(split_dim=2)  # RNN1 along every row, RNN2 down the rows
    return torch.cat([rows_fwd, rows_bwd, cols_fwd, cols_bwd], dim=1)


def reference_layer(layer: RNNPoolLayer, x: torch.Tensor) -> torch.Tensor:
    """EdgeML-style strided RNNPool over a map [B, k, H, W] → [B, 4·h2, ceil(H/s), ceil(W/s)]."""
    b, k, height, width = x.shape
    (r, c), (sr, sc) = layer.patch_size, layer.stride
    p, q = (height - r) // sr + 1, (width - c) // sc + 1
    cols = F.unfold(x, kernel_size=(r, c), stride=(sr, sc))  # [B, k·r·c, L]
    patches = torch.cat(torch.unbind(cols, dim=2), dim=0)  # [L·B, k·r·c], position-major (l·B + b)
    patches = patches.reshape(-1, k, r, c)  # [L·B, k, r, c]
    pooled = _reference_pool(layer, patches)  # [L·B, 4·h2]
    pooled = torch.stack(torch.split(pooled, b, dim=0), dim=2)  # [B, 4·h2, L]
    out = F.fold(pooled, output_size=(p, q), kernel_size=1)  # [B, 4·h2, P, Q]
    out_h, out_w = math.ceil(height / sr), math.ceil(width / sc)
    return F.pad(out, (0, out_w - q, 0, out_h - p), mode="replicate")


# ---------------------------------------------------------------------------------------------- EdgeML's own
def import_edgeml_rnnpool(checkout: str) -> type:
    """``edgeml_pytorch.graph.rnnpool.RNNPool`` from a local EdgeML checkout (root or its ``pytorch/`` folder)."""
    root = Path(checkout).expanduser().resolve()
    candidates = [root / "pytorch", root]
    package_dir = next(
        (c for c in candidates if (c / "edgeml_pytorch" / "graph" / "rnnpool.py").is_file()), None
    )
    if package_dir is None:
        raise SystemExit(
            f"--edgeml {checkout}: no edgeml_pytorch/graph/rnnpool.py under {root} or {root / 'pytorch'}; "
            "expected a checkout of https://github.com/microsoft/EdgeML "
            "(git clone https://github.com/microsoft/EdgeML /tmp/EdgeML, then --edgeml /tmp/EdgeML)."
        )
    sys.path.insert(0, str(package_dir))
    from edgeml_pytorch.graph.rnnpool import RNNPool as EdgeMLRNNPool  # noqa: PLC0415 (run-time import)

    return EdgeMLRNNPool


class EdgeMLLayer:
    """EdgeML's ``RNNPool`` carrying the weights of one of our ``RNNPoolLayer``s, driven like its vision models."""

    def __init__(self, rnnpool_cls: type, layer: RNNPoolLayer) -> None:
        (r, c), self.stride = layer.patch_size, layer.stride
        if r != c or layer.pool.cell != "fastgrnn":
            raise SystemExit(
                f"--edgeml: EdgeML's RNNPool takes square patches and FastGRNN cells; got patch {layer.patch_size}"
                f", cell {layer.pool.cell!r}. Use --cell fastgrnn (the patch is square from --patch)."
            )
        self.patch = r
        ours = (layer.pool.rnn1, layer.pool.rnn2)
        self.model = rnnpool_cls(r, c, ours[0].hidden_size, ours[1].hidden_size, layer.in_channels)
        self.model.to(device=layer.pool.rnn1.weight_ih.device, dtype=layer.pool.rnn1.weight_ih.dtype)
        self.cells = (self.model.cell_rnn.cell, self.model.cell_bidirrnn.cell)
        with torch.no_grad():
            for theirs, our in zip(self.cells, ours):
                theirs.W.copy_(our.weight_ih.t())  # [in, h]
                theirs.U.copy_(our.weight_hh.t())  # [h, h]
                theirs.bias_gate.copy_(our.bias_gate.view(1, -1))
                theirs.bias_update.copy_(our.bias_update.view(1, -1))
                theirs.zeta.copy_(our.zeta.view(1, 1))
                theirs.nu.copy_(our.nu.view(1, 1))

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        b, k, height, width = x.shape
        r, s = self.patch, self.stride[0]
        p, q = (height - r) // s + 1, (width - r) // self.stride[1] + 1
        cols = F.unfold(x, kernel_size=r, stride=self.stride)  # [B, k·r·r, L]
        patches = torch.cat(torch.unbind(cols, dim=2), dim=0).reshape(-1, k, r, r)  # [L·B, k, r, r]
        pooled = self.model(patches, patches.shape[0])  # [L·B, 4·h2]
        pooled = torch.stack(torch.split(pooled, b, dim=0), dim=2)  # [B, 4·h2, L]
        out = F.fold(pooled, output_size=(p, q), kernel_size=1)  # [B, 4·h2, P, Q]
        out_h, out_w = math.ceil(height / s), math.ceil(width / self.stride[1])
        return F.pad(out, (0, out_w - q, 0, out_h - p), mode="replicate")

    def parameters(self) -> list[torch.Tensor]:
        return [
            t
            for cell in self.cells
            for t in (cell.W, cell.U, cell.bias_gate, cell.bias_update, cell.zeta, cell.nu)
        ]

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.model.zero_grad(set_to_none=set_to_none)

    @staticmethod
    def grads_in_our_layout(grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """Gradients of (W, U, b_g, b_h, ζ, ν) × 2 cells, transposed/reshaped to our parameter layout."""
        out = []
        for i, g in enumerate(grads):
            kind = i % 6
            out.append(g.t() if kind < 2 else g.reshape(-1) if kind < 4 else g.reshape(()))
        return out


# ---------------------------------------------------------------------------------------------------- timing
def _median_ms(
    fns: list[Callable[[], object]],
    warmup: int,
    repeats: int,
    device: torch.device,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Median time in milliseconds (``clock``: wall or process CPU) of each of ``fns`` after ``warmup`` calls.

    The functions are timed interleaved (a, b, a, b, …) so that a noisy machine slows them alike.
    """

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        for fn in fns:
            fn()
    sync()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, acc in zip(fns, times):
            start = clock()
            fn()
            sync()
            acc.append(clock() - start)
    return [1e3 * statistics.median(acc) for acc in times]


def _train_step(
    model: Callable[[torch.Tensor], torch.Tensor],
    layer: RNNPoolLayer | EdgeMLLayer,
    x: torch.Tensor,
    g: torch.Tensor,
) -> list[torch.Tensor]:
    """One forward+backward of Σ model(x)·g; returns the gradients of x and of every parameter of ``layer``."""
    layer.zero_grad(set_to_none=True)
    x = x.detach().requires_grad_(True)
    (model(x) * g).sum().backward()
    return [x.grad] + [p.grad for p in layer.parameters()]


def _max_rel_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    """max over tensors of max|a − b| / max(max|b|, 1e-12): gradients sum over thousands of patches."""
    return max(((u - v).abs().max() / v.abs().max().clamp_min(1e-12)).item() for u, v in zip(a, b))


# ------------------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--channels", type=int, default=32, help="k, input channels")
    parser.add_argument("--size", type=int, default=112, help="H = W of the input map")
    parser.add_argument("--patch", type=int, default=6)
    parser.add_argument("--stride", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=16, help="h1 = h2")
    parser.add_argument(
        "--cell", choices=CELLS, default="fastgrnn", help="the reference supports fastgrnn only"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    parser.add_argument("--no-backward", action="store_true", help="skip the forward+backward case")
    parser.add_argument("--atol", type=float, default=1e-4, help="max |ours − reference| allowed on outputs")
    parser.add_argument("--grad-rtol", type=float, default=1e-4, help="max relative gradient difference")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall time, or this process's CPU time (all threads; steadier on a shared machine)",
    )
    parser.add_argument(
        "--edgeml",
        metavar="DIR",
        default=None,
        help="a local microsoft/EdgeML checkout: time against its own RNNPool instead of the in-repo reference",
    )
    args = parser.parse_args(argv)
    edgeml_cls = import_edgeml_rnnpool(args.edgeml) if args.edgeml else None

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)

    layer = RNNPoolLayer(args.channels, args.hidden, args.hidden, args.patch, args.stride, cell=args.cell)
    if args.cell == "fastgrnn":  # re-draw biases, ζ, ν so that every term of the update is exercised
        with torch.no_grad():
            for cell in (layer.pool.rnn1, layer.pool.rnn2):
                cell.bias_gate.normal_(0.0, 0.5)
                cell.bias_update.normal_(0.0, 0.5)
                cell.zeta.fill_(torch.randn(()).item())
                cell.nu.fill_(torch.randn(()).item() - 2.0)
    layer = layer.to(device=device, dtype=torch.float32)
    x = torch.randn(args.batch, args.channels, args.size, args.size, device=device)
    has_ref = args.cell == "fastgrnn" or edgeml_cls is not None
    edgeml = EdgeMLLayer(edgeml_cls, layer) if edgeml_cls is not None else None
    reference_name = f"EdgeML RNNPool ({args.edgeml})" if edgeml else "in-repo reference (EdgeML's algorithm)"

    def ours(inp: torch.Tensor) -> torch.Tensor:
        return layer(inp)

    def ref(inp: torch.Tensor) -> torch.Tensor:
        return edgeml(inp) if edgeml is not None else reference_layer(layer, inp)

    results: dict[str, dict[str, float | None]] = {}
    ok = True

    def timed(fns: list[Callable[[], object]]) -> dict[str, float | None]:
        clock = time.process_time if args.clock == "cpu" else time.perf_counter
        ms = _median_ms(fns, args.warmup, args.repeats, device, clock)
        return {"ours_ms": ms[0], "reference_ms": ms[1] if has_ref else None}

    # Forward, inference mode.
    with torch.inference_mode():
        out = ours(x)
        fwd = timed([lambda: ours(x)] + ([lambda: ref(x)] if has_ref else []))
        if has_ref:
            fwd["max_abs_diff"] = diff = (out - ref(x)).abs().max().item()
            ok &= diff < args.atol
    results["forward"] = fwd

    # Forward + backward (training): gradients of the input and all parameters.
    if not args.no_backward:
        g = torch.randn_like(out)
        ref_params = edgeml if edgeml is not None else layer
        fns = [lambda: _train_step(ours, layer, x, g)] + (
            [lambda: _train_step(ref, ref_params, x, g)] if has_ref else []
        )
        fb = timed(fns)
        if has_ref:
            ref_grads = fns[1]()
            if edgeml is not None:
                ref_grads = ref_grads[:1] + edgeml.grads_in_our_layout(ref_grads[1:])
            fb["max_rel_grad_diff"] = diff = _max_rel_diff(fns[0](), ref_grads)
            ok &= diff < args.grad_rtol
        results["forward_backward"] = fb

    for fig in results.values():
        fig["speedup"] = fig["reference_ms"] / fig["ours_ms"] if has_ref else None

    # Report.
    print(
        f"RNNPool  B={args.batch} k={args.channels} {args.size}x{args.size} patch={args.patch} "
        f"stride={args.stride} h1=h2={args.hidden} cell={args.cell} device={device} "
        f"threads={torch.get_num_threads()} torch={torch.__version__} "
        f"-> {tuple(out.shape)}; median {args.clock} time of {args.repeats} after {args.warmup} warm-up; "
        f"reference: {reference_name}"
    )
    print(f"{'case':<18}{'ours ms':>11}{'reference ms':>15}{'ref/ours':>16}{'max diff':>12}")
    for case, fig in results.items():
        if has_ref:
            diff = fig.get("max_abs_diff", fig.get("max_rel_grad_diff"))
            kind = "abs" if "max_abs_diff" in fig else "rel"
            print(
                f"{case:<18}{fig['ours_ms']:>11.1f}{fig['reference_ms']:>15.1f}"
                f"{fig['speedup']:>9.2f}x faster{diff:>9.1e} {kind}"
            )
        else:
            print(f"{case:<18}{fig['ours_ms']:>11.1f}{'n/a':>15}{'n/a':>16}{'n/a':>12}")
    if has_ref and not ok:
        print(f"MISMATCH: ours and the reference differ (atol {args.atol}, grad rtol {args.grad_rtol})")
    config = {k: v for k, v in vars(args).items() if k not in ("atol", "grad_rtol")}
    config.update(
        threads=torch.get_num_threads(), device=str(device), torch=torch.__version__, reference=reference_name
    )
    print(json.dumps({"config": config, **results, "equal": ok if has_ref else None}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
