"""Benchmark of inversion steps (`make bench`): the paper's naive loop, this project's path, the floor.

    python scripts/bench.py                       # full run on the current device -> results/bench.json
    python scripts/bench.py --sizes 64 --layers conv2 --batches 1 2 --steps 2 --no-iterations  # smoke

For ResNet50 (untrained: the same arithmetic as trained, and no download needed) at each size, layer and
batch of step sizes it measures, in one process and on one device, seconds per inversion step of
  * naive:   the loop of the paper's code - parameters requiring gradients (accumulated every step), the
             whole model written out up to the layer, ``loss.backward()``, torchvision's gaussian_blur;
  * project: ``depthrep_utils.invert`` on ``truncate(...)`` (frozen, BatchNorm folded, channels-last),
             B step sizes in one batch;
  * floor:   the FLOPs one step of the graph that runs computes (torch's FLOP counter on that graph's forward
             pass and its backward pass: the project's folded, polyphase, truncated graph with the input gradient
             only; the naive loop's graph with every weight gradient it also computes), over the best float32
             matrix-multiply rate of several sizes, measured right after each timed repeat (``step_flops``,
             ``matmul_rate``). A ratio below 1 means the count holds work that is not computed or the rate is
             not the peak: the benchmark says so.
Naive runs one step size at a time, so its cost for B step sizes is B times its single-run step. Both
loops run under the same memory allocator setting (``du.reuse_freed_memory``, which ``invert`` turns on),
so the speed-up counts only what the code does differently. Seconds per step are steady-state (after a
first step that allocates and selects kernels), the median of ``--repeats`` runs of ``--steps`` steps.
For each size and layer, a check that both loops compute the same thing (same start, step size and blur
schedule -> the same image up to float32 rounding) goes with the project's batch-1 row. Optionally (default on CUDA): torch.compile and bf16 autocast, with bf16's effect
on m_g. Then (default on CPU, ``--ops``) where a step's time goes at the first size: torch.profiler's own
time per operator, split into forward pass, input gradient and the rest, with FLOP rates against the best
rate. Last, iterations until m_g < m_s at conv4 and conv5 for the paper's update and for Adam.
"""
from __future__ import annotations

import argparse
import copy
import ctypes
import os
import platform
import re
import statistics
import threading
import time
from pathlib import Path
from typing import Callable

import torch
import torchvision
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
import depthrep_utils as du  # noqa: E402

# The paper's code: 0.15 * L1 loss, blur sigma 2.4 -> 0.4 (the project's recipe, du.blur_sigmas, gives exactly these
# at 299 px; both loops use them at every size, so that they compute the same thing).
LOSS_SCALE, SIGMAS = 0.15, du.PAPER_BLUR_SIGMAS


# --- measuring ----------------------------------------------------------------------------------------

RATES: list[float] = []  # every float32 matrix-multiply rate measured in this process (the best is the floor's)


def matmul_rate(device: torch.device, dtype: torch.dtype = torch.float32, tries: int = 3) -> float:
    """Best FLOP/s of square matrix products of several sizes on ``device`` (the fastest size differs between
    processors and libraries; one size alone can sit below what a convolution reaches). On CUDA float32
    products run as convolutions do by default (cuDNN's TF32 setting), so that the floor and the model use the
    same units."""
    sizes = (4096, 8192) if device.type == "cuda" else (512, 1024, 2048) if dtype == torch.float32 else (512,)
    rate = 0.0
    tf32 = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32
    try:
        for n in sizes:
            a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
            best = float("inf")
            for i in range(tries + 1):
                du.synchronize(device)
                t = time.perf_counter()
                a @ b
                du.synchronize(device)
                best = min(best, time.perf_counter() - t) if i else best  # the first product warms up
            rate = max(rate, 2 * n ** 3 / best)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = tf32
    if dtype == torch.float32:
        RATES.append(rate)
    return rate


# Dense float32 peaks from the data sheets (TF32 tensor cores, which cuDNN convolutions use by default).
GPU_PEAKS = {"H100": 494.7e12, "H200": 494.7e12, "A100": 156e12, "L4": 60e12, "A10": 62.5e12, "T4": 8.1e12}


def theoretical_peak(device: torch.device, best: float) -> tuple[float | None, str]:
    """The cores' float32 peak and how it was computed: on CPU vector lanes x FMA pipes x 2 FLOPs x clock x
    cores (threads torch uses), from what the CPU reports (when ``best``, the measured rate, exceeds it, the
    clock that rate implies); on a GPU, the data sheet of the card."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        key = next((k for k in GPU_PEAKS if k in name), None)
        return (GPU_PEAKS[key], f"{name}: data sheet, dense TF32") if key else (None, f"{name}: not in the table")
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None, "no /proc/cpuinfo"
    flags = set(re.search(r"^flags\s*:(.*)$", info, re.M).group(1).split())
    mhz = float(re.search(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M).group(1))
    model = re.search(r"^model name\s*:\s*(.*)$", info, re.M).group(1).strip()
    vendor = re.search(r"^vendor_id\s*:\s*(\S+)", info, re.M).group(1)
    # float32 lanes per FMA instruction pipe: AMD Zen 4 runs AVX-512 on 256-bit pipes (2 of them), Intel
    # server cores have two 512-bit FMA pipes where avx512f is present (some have one; then this is 2x high).
    lanes = 16 if "avx512f" in flags and vendor != "AuthenticAMD" else 8 if "avx2" in flags or "avx" in flags else 4
    pipes = 2 if "fma" in flags else 1
    cores = torch.get_num_threads()
    peak = lanes * pipes * 2 * mhz * 1e6 * cores
    how = (f"{model}: {lanes} float32 lanes x {pipes} FMA pipes x 2 x {mhz / 1000:.2f} GHz (reported clock; "
           f"boost can be higher) x {cores} cores")
    if best > peak:  # the cores ran above the clock /proc/cpuinfo reports
        how += f"; the best rate implies at least {best / peak * mhz / 1000:.2f} GHz"
    return peak, how


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def forward_flops(model: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward pass, counted by torch (convolutions and matrix products)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return counter.get_total_flops()


def step_flops(model: nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one inversion step of ``model`` on the batch ``x``, counted by torch (convolutions and matrix
    products) on the graph that runs: its forward pass and the backward pass of an L1 loss, which computes the
    input gradient and the gradient of every weight that requires one (none in the project's frozen graphs;
    all of them in the paper's loop). The loss, update and blur are not counted (a few % of a step)."""
    from torch.utils.flop_counter import FlopCounterMode

    x = x.detach().clone().requires_grad_(True)
    with FlopCounterMode(display=False) as counter:
        model(x).abs().sum().backward()  # autograd.grad on a leaf is not supported under the FLOP counter
    for p in model.parameters():
        p.grad = None
    return counter.get_total_flops()


class PeakMemory:
    """Peak memory of the code inside: allocated GPU memory on CUDA; on CPU the rise of the process's
    resident set over its value at entry (sampled every millisecond, after returning freed heap to the OS)."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.mib = device, 0.0

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            self.start = torch.cuda.memory_allocated(self.device)
            return self
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):
            pass
        self.start = self.peak = _rss()
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss())
            time.sleep(0.001)

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            self.mib = (torch.cuda.max_memory_allocated(self.device) - self.start) / 2 ** 20
        else:
            self.running = False
            self.thread.join()
            self.mib = (self.peak - self.start) / 2 ** 20


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --- the two loops ----------------------------------------------------------------------------------

class NaiveResNet(nn.Module):
    """The paper code's model wrapper: the stem and residual stages written out, stopping at the layer."""

    def __init__(self, resnet: nn.Module, stages: int) -> None:
        super().__init__()
        self.resnet, self.stages = resnet, stages

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.resnet
        x = r.maxpool(r.relu(r.bn1(r.conv1(x))))
        for i in range(1, self.stages + 1):
            x = getattr(r, f"layer{i}")(x)
        return x


def naive_loop(model: nn.Module, target_embedding: torch.Tensor, x: torch.Tensor, steps: int,
               step_size: float) -> tuple[torch.Tensor, float]:
    """The paper's update, written as its code does it; returns the image and seconds per step."""
    device = x.device
    for i in range(steps):
        if i == 1:  # steady state: as in du.invert, the first step is not timed
            du.synchronize(device)
            t = time.perf_counter()
        x = x.detach()
        x.requires_grad = True
        loss = LOSS_SCALE * torch.sum(torch.abs(target_embedding - model(x)))
        loss.backward()  # also fills (and accumulates) every parameter's .grad, as in the paper's code
        x = x.detach() - step_size * x.grad
        sigma = SIGMAS[0] * (steps - i) / steps + SIGMAS[1] * i / steps
        x = torchvision.transforms.functional.gaussian_blur(x, 3, sigma=sigma)
    du.synchronize(device)
    return x, (time.perf_counter() - t) / (steps - 1)


def project_loop(model: nn.Module, target: torch.Tensor, steps: int, step_size: list[float],
                 **kwargs: object) -> du.Inversion:
    """This project's path: ``du.invert`` with the paper's blur schedule and loss scale."""
    return du.invert(model, target, steps, step_size, blur=SIGMAS,
                     loss_scale=LOSS_SCALE, record_every=steps, on_nonfinite="mark", progress=False, **kwargs)


def measure(run: Callable[[int], float], steps: int, repeats: int, device: torch.device,
            dtype: torch.dtype = torch.float32) -> dict:
    """Time ``run(steps)`` (it returns steady-state seconds per step): one warm-up call (compilation, kernel
    selection), then the median of ``repeats`` timed calls, each followed by a measurement of the
    matrix-multiply rate, so that the floor is taken under the same conditions (a shared machine's speed
    drifts by 10-20% within minutes); last, one more call for peak memory alone, so that the memory
    sampler does not take CPU time from the timed calls."""
    first = time.perf_counter()
    run(2)
    warmup = time.perf_counter() - first
    seconds, rates = [], []
    for _ in range(repeats):
        seconds.append(run(steps))
        rates.append(matmul_rate(device, dtype))
    with PeakMemory(device) as memory:
        run(2)
    return dict(seconds_per_step=statistics.median(seconds), matmul_flops_per_second=statistics.median(rates),
                warmup_seconds=warmup, peak_mib=memory.mib)


# --- the benchmark ------------------------------------------------------------------------------------

def batch_step_sizes(batch: int) -> list[float]:
    """B step sizes spread over 1e-3..1e-1 (the range a line search covers; the value does not change the cost)."""
    return [float(v) for v in torch.logspace(-3, -1, batch)] if batch > 1 else [0.01]


def bench_layer(resnet: nn.Module, size: int, layer: str, args: argparse.Namespace,
                device: torch.device) -> list[dict]:
    """All rows for one size and layer."""
    target = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(0)).to(device)
    fast = du.truncate(resnet, layer)
    flops = forward_flops(du.truncate(resnet, layer, fast=False), target)  # the layer's arithmetic, for reference

    naive = NaiveResNet(copy.deepcopy(resnet).requires_grad_(True), int(layer[-1]) - 1).eval()
    with torch.no_grad():
        y_naive = naive(target)
    start = du.start_image(target.shape, 0).to(device)
    naive_row = measure(lambda steps: naive_loop(naive, y_naive, start, steps, 0.01)[1], args.steps, args.repeats,
                        device)
    naive_s = naive_row["seconds_per_step"]
    # Same start, step size and schedule through both loops: the same images up to float32 rounding, which
    # can flip the odd ReLU unit sitting at its kink (then that unit's share of the gradient differs).
    a_naive, _ = naive_loop(naive, y_naive, start, args.steps, 0.01)
    a_project = project_loop(fast, target, args.steps, [0.01]).images
    agreement = float((a_naive.cpu() - a_project).norm() / (a_naive.cpu() - start.cpu()).norm())
    rows = [dict(case="naive", size=size, layer=layer, batch=1, forward_gflop=flops / 1e9,
                 step_gflop=step_flops(naive, start) / 1e9, **naive_row)]
    del naive

    variants = [("project", fast, {}, torch.float32)]
    if args.compile:
        variants.append(("project+compile" + ("+freezing" if args.freezing else ""),
                         du.truncate(resnet, layer, compile=args.compile_mode), {}, torch.float32))
    if args.bf16:
        variants.append(("project+bf16", fast, dict(autocast=torch.bfloat16), torch.bfloat16))
    for name, model, kwargs, dtype in variants:
        for batch in args.batches:
            step_size = batch_step_sizes(batch)
            timing = measure(lambda steps: project_loop(model, target, steps, step_size, **kwargs).step_seconds,
                             args.steps, args.repeats, device, dtype)
            counted = step_flops(fast, start.expand(batch, -1, -1, -1))  # the graph that runs (compiled: the same)
            rows.append(dict(case=name, size=size, layer=layer, batch=batch, forward_gflop=flops / 1e9,
                             step_gflop=counted / 1e9, **timing,
                             agreement_with_naive=agreement if name == "project" and batch == 1 else None))
    for row in rows:
        row.update(device=str(device), seconds_per_run_step=row["seconds_per_step"] / row["batch"],
                   speedup_over_naive=naive_s * row["batch"] / row["seconds_per_step"])
        set_floor(row, max(RATES))
    if args.bf16:
        rows[-1]["bf16_m_g"] = bf16_accuracy(fast, target, args.accuracy_steps)
    return rows


def set_floor(row: dict, rate: float) -> None:
    """The floor of one row: the FLOPs its step computes (``step_flops``, the whole batch) over ``rate``, the best
    float32 matrix-multiply rate seen so far in the whole benchmark (a slow moment must not flatter the ratio).
    A step faster than its floor is reported: the count or the rate is wrong, not the step."""
    row["floor_seconds"] = row["step_gflop"] * 1e9 / rate
    row["floor_rate_flops_per_second"] = rate
    row["ratio_to_floor"] = row["seconds_per_step"] / row["floor_seconds"]
    if row["ratio_to_floor"] < 1:
        print(f"  WARNING: {row['case']} {row['layer']} @ {row['size']} px ran at {row['ratio_to_floor']:.2f} of its "
              f"floor: the FLOP count holds work that is not computed, or {rate / 1e9:.0f} GFLOP/s is not the "
              f"peak", flush=True)


def bf16_accuracy(model: nn.Module, target: torch.Tensor, steps: int) -> dict:
    """m_g after ``steps`` of eq. (5) in float32 and under bf16 autocast, from the same start."""
    full = project_loop(model, target, steps, [0.01]).m_g[0]
    half = project_loop(model, target, steps, [0.01], autocast=torch.bfloat16).m_g[0]
    return dict(steps=steps, float32=float(full), bfloat16=float(half), relative_change=float(half / full - 1))


def iterations_to_threshold(resnet: nn.Module, size: int, budget: int, device: torch.device) -> list[dict]:
    """Iterations until m_g < m_s (eq. 4 from a_0, eps from a line search, decaying to 0 over ``budget``
    steps as in the notebooks) at conv4 and conv5 on the Dalmatian image, for the paper's update and Adam."""
    target, source = du.load_image("dalmatian", size)
    target = target.to(device)
    grids = {"sgd": [0.125, 0.031, 0.0079, 0.002], "adam": [0.1, 0.03, 0.01, 0.003]}
    rows = []
    for layer in ("conv4", "conv5"):
        model = du.truncate(resnet, layer)
        for update, grid in grids.items():
            step_size, _ = du.line_search(model, target, grid, 30, decay_to=0.0, update=update,
                                          progress=False)
            run = du.invert(model, target, budget, step_size, decay_to=0.0, update=update, record_every=5,
                            progress=False)
            m_s = float(du.distances(model, target, run.images)["m_s"][0])
            below = [int(n) for n, m in zip(run.steps, run.history["m_g"][:, 0]) if m < m_s]
            iterations = below[0] if below else None
            rows.append(dict(layer=layer, update=update, size=size, image=source, step_size=step_size, budget=budget,
                             m_s=m_s, m_g=float(run.m_g[0]), m_i=float(run.m_i[0]), iterations=iterations,
                             seconds=None if iterations is None else iterations * run.step_seconds))
            reached = "not within budget" if iterations is None else f"{iterations} ({rows[-1]['seconds']:.1f} s)"
            print(f"  {layer} {update:4} step size {step_size:<8.3g} m_s {m_s:8.3f}  final m_g {run.m_g[0]:8.3f}  "
                  f"iterations to m_g < m_s: {reached}", flush=True)
    return rows


PHASES = {"forward": "forward", "backward": "input gradient", "other": "loss, update, blur, record"}


class Labelled(nn.Module):
    """The model with its forward pass inside a profiler range, so that ``profile_ops`` can tell forward
    operators from the same operators elsewhere (the blur is a convolution too)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.profiler.record_function("forward"):
            return self.model(x)


def profile_ops(model: nn.Module, target: torch.Tensor, size: int, layer: str, batch: int, steps: int,
                best_rate: float, top: int = 8, pairs: int = 2) -> dict:
    """Where one step of ``du.invert`` spends its time (CPU): the share of the model's forward pass, of the
    input gradient (the autograd engine's work) and of the rest (L1 loss, update, blur, record); the forward
    and input-gradient FLOP rates against ``best_rate``; the ``top`` operators by own time, each with its
    phase, per step over ``steps`` steps after the first. Times include the profiler's own overhead (a few
    %); the fastest of ``pairs`` profiles is kept."""
    from torch.profiler import ProfilerActivity, profile

    x = target.expand(batch, -1, -1, -1)
    forward = forward_flops(model, x)
    flops = {"forward": forward, "backward": step_flops(model, x) - forward}
    labelled, step_size = Labelled(model), batch_step_sizes(batch)
    project_loop(labelled, target, 2, step_size)  # kernel selection, allocations

    def phase_of(event) -> str | None:
        """forward, backward or other for an operator inside the window of timed steps, else None."""
        phase = None
        while event is not None:
            if phase is None and event.name == "forward":
                phase = "forward"
            elif phase is None and event.name.startswith("autograd::engine::evaluate_function"):
                phase = "backward"
            elif event.name == "steps":
                return phase or "other"
            event = event.cpu_parent
        return None

    def window(n: int) -> Callable[[int], bool]:
        """``invert``'s on_step: a profiler range from the end of step 1 to the end of step n, so that it holds
        steps 2..n and neither the target's embedding before them nor the final distances after them."""
        scope = torch.profiler.record_function("steps")

        def on_step(k: int) -> bool:
            if k == 1:
                scope.__enter__()
            elif k == n:
                scope.__exit__(None, None, None)
            return False
        return on_step

    def per_step() -> dict[tuple[str, str], list]:
        """Own seconds and calls per step of every (operator, phase)."""
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            project_loop(labelled, target, steps + 1, step_size, on_step=window(steps + 1))
        out: dict[tuple[str, str], list] = {}
        for e in prof.events():
            phase = phase_of(e) if e.name.startswith("aten::") else None  # own times: nothing counted twice
            if phase:
                entry = out.setdefault((e.name, phase), [0.0, 0.0])
                entry[0] += e.self_cpu_time_total / 1e6 / steps
                entry[1] += 1 / steps
        return out

    # The fastest of ``pairs`` profiles is kept (a shared machine has slow moments; the timed rows take a median).
    ops = min((per_step() for _ in range(pairs)), key=lambda o: sum(v[0] for v in o.values()))
    phase_s = dict.fromkeys(PHASES, 0.0)
    for (_, phase), (sec, _) in ops.items():
        phase_s[phase] += sec
    total = sum(phase_s.values())
    phases = [dict(phase=k, what=PHASES[k], seconds=v, share=v / total,
                   gflop=flops[k] / 1e9 if k in flops else None,
                   rate_to_best=flops[k] / v / best_rate if k in flops and v else None)
              for k, v in phase_s.items()]
    table = [dict(op=op, phase=phase, seconds=sec, share=sec / total, calls_per_step=calls)
             for (op, phase), (sec, calls) in sorted(ops.items(), key=lambda kv: -kv[1][0])[:top]]
    out = dict(size=size, layer=layer, batch=batch, steps=steps, seconds_per_step=total, phases=phases,
               operators=table)
    print(f"  {layer} @ {size} px, batch {batch}: {total:.4f} s per profiled step; "
          + ", ".join(f"{p['what']} {p['share']:.0%}" + (f" at {p['rate_to_best']:.2f} of the best rate"
                                                          if p["rate_to_best"] else "") for p in phases), flush=True)
    for r in table:
        print(f"    {r['op']:34} {PHASES[r['phase']]:26} {r['seconds'] * 1e3:8.2f} ms {r['share']:6.1%} "
              f"{r['calls_per_step']:6.1f} calls/step", flush=True)
    return out


def verdicts(rows: list[dict], device: torch.device) -> list[dict]:
    """The issue's targets, each with the measured value and whether it is met."""
    def row(case: str, size: int, layer: str, batch: int) -> dict | None:
        return next((r for r in rows if (r["case"], r["size"], r["layer"], r["batch"]) == (case, size, layer, batch)),
                    None)

    out = []
    main, batch16 = row("project", 299, "conv4", 1), row("project", 299, "conv4", 16)
    if main:
        out += [dict(target="conv4 @ 299 px, batch 1: speed-up over the naive loop >= 2", value=main["speedup_over_naive"],
                     met=main["speedup_over_naive"] >= 2),
                dict(target="conv4 @ 299 px, batch 1: time / floor (best rate) <= 1.3", value=main["ratio_to_floor"],
                     met=1 <= main["ratio_to_floor"] <= 1.3)]
    if main and batch16:
        value = batch16["seconds_per_run_step"] / main["seconds_per_step"]
        out.append(dict(target="conv4 @ 299 px: batch 16 per run <= 0.9 x batch 1", value=value, met=value <= 0.9))
    for r in rows:
        single = row("project", r["size"], r["layer"], 1)
        if r["case"] == "project" and r["batch"] > 1 and single:
            out.append(dict(target=f"{r['layer']} @ {r['size']} px: batch {r['batch']} costs per run <= batch 1",
                            value=r["seconds_per_run_step"] / single["seconds_per_step"],
                            met=r["seconds_per_run_step"] <= single["seconds_per_step"]))
    return out


def print_row(r: dict) -> None:
    print(f"{r['case']:16} {r['size']:5} {r['layer']:6} {r['batch']:5} {r['seconds_per_step']:10.4f} "
          f"{r['seconds_per_run_step']:10.4f} {r['floor_seconds']:9.4f} {r['ratio_to_floor']:7.2f} "
          f"{r['speedup_over_naive']:8.2f} {r['peak_mib']:9.0f} {r['matmul_flops_per_second'] / 1e9:9.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[299, 128])
    parser.add_argument("--layers", nargs="+", default=["conv2", "conv4", "conv5"])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--steps", type=int, default=4, help="steps per timed repeat (>= 2; the first is not timed)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats per case (the median is kept)")
    parser.add_argument("--device", default=None, help="default: CUDA, else MPS, else CPU")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                        help="also time torch.compile (default: on CUDA only)")
    parser.add_argument("--compile-mode", default=True, help="torch.compile mode, e.g. reduce-overhead")
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="also time bf16 autocast and its effect on m_g (default: on CUDA only)")
    parser.add_argument("--accuracy-steps", type=int, default=100, help="steps for the bf16 m_g comparison")
    parser.add_argument("--iterations", action=argparse.BooleanOptionalAction, default=True,
                        help="measure iterations to m_g < m_s at conv4 and conv5")
    parser.add_argument("--iterations-size", type=int, default=None, help="default: 128 on CPU, 299 on GPU")
    parser.add_argument("--iterations-budget", type=int, default=300)
    parser.add_argument("--ops", action=argparse.BooleanOptionalAction, default=None,
                        help="profile where each step's time goes at the first size, every layer, the smallest and "
                             "largest batch (default: on CPU only; a GPU's work is asynchronous to the profiler's "
                             "CPU ranges)")
    parser.add_argument("--freezing", action="store_true",
                        help="compile (implies --compile) with inductor's freezing: weights as constants; its oneDNN "
                             "post-op fusion applies to inference graphs only, so an input-gradient step gains "
                             "nothing (docs/SPEED.md)")
    parser.add_argument("--out", type=Path, default=du.results_root() / "bench.json")
    args = parser.parse_args()
    device = torch.device(args.device) if args.device else du.get_device()
    args.compile = args.freezing or (device.type == "cuda" if args.compile is None else args.compile)
    args.bf16 = device.type == "cuda" if args.bf16 is None else args.bf16
    args.ops = device.type == "cpu" if args.ops is None else args.ops
    if args.freezing:
        from torch._inductor import config as inductor_config

        inductor_config.freezing = True
    args.batches = sorted(set(args.batches) | {1})
    if args.steps < 2:
        parser.error("--steps must be at least 2: the first step of every run is not timed")

    load_before = load_average()
    heap_reuse = device.type == "cpu" and du.reuse_freed_memory()
    rates = {"float32": matmul_rate(device, tries=8)}
    if args.bf16:
        rates["bfloat16"] = matmul_rate(device, torch.bfloat16, tries=8)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, heap reuse {heap_reuse}; "
          "matrix multiply " + ", ".join(f"{k} {v / 1e9:.1f} GFLOP/s" for k, v in rates.items()), flush=True)
    report = dict(device=str(device), device_name=torch.cuda.get_device_name(device) if device.type == "cuda"
                  else platform.processor() or platform.machine(), torch=torch.__version__,
                  threads=torch.get_num_threads(), heap_reuse=heap_reuse, matmul_flops_per_second=rates, steps=args.steps,
                  repeats=args.repeats, model="ResNet50 (untrained)", rows=[], operators=[], iterations=[],
                  targets=[], freezing=args.freezing)
    print(f"{'case':16} {'size':>5} {'layer':6} {'batch':>5} {'s/step':>10} {'s/run-step':>10} {'floor s':>9} "
          f"{'x floor':>7} {'speed-up':>8} {'peak MiB':>9} {'GFLOP/s*':>9}")
    print("  (floor: FLOPs over the best float32 rate so far; GFLOP/s*: the rate measured right after this row's "
          "repeats)")
    resnet = du.load_resnet(50).to(device)
    for size in args.sizes:
        for layer in args.layers:
            rows = bench_layer(resnet, size, layer, args, device)
            for r in rows:
                print_row(r)
            print(f"  {layer} @ {size}: after {args.steps} steps from the same start, the naive and project images "
                  f"differ by {rows[1]['agreement_with_naive']:.1e} of the distance moved", flush=True)
            if "bf16_m_g" in rows[-1]:
                print(f"  bf16 m_g after {args.accuracy_steps} steps: {rows[-1]['bf16_m_g']}", flush=True)
            report["rows"] += rows
            du.write_json(args.out, report)  # nothing measured is lost if the run stops
    if args.ops:
        print(f"where the time goes per step (torch.profiler, {args.steps} steps; shares of the profiled step):")
        target = torch.rand(1, 3, args.sizes[0], args.sizes[0], generator=torch.Generator().manual_seed(0)).to(device)
        report["operators"] = [profile_ops(du.truncate(resnet, layer), target, args.sizes[0], layer, batch,
                                           args.steps, max(RATES))
                               for layer in args.layers for batch in sorted({min(args.batches), max(args.batches)})]
        du.write_json(args.out, report)
    if args.iterations:
        size = args.iterations_size or (128 if device.type == "cpu" else 299)
        print(f"iterations to m_g < m_s ({size} px, eq. 4, eps decaying to 0 over {args.iterations_budget} steps):")
        report["iterations"] = iterations_to_threshold(resnet, size, args.iterations_budget, device)
    best = max(RATES)
    for r in report["rows"]:  # the floor of every row from the best rate of the whole benchmark
        set_floor(r, best)
    peak, how = theoretical_peak(device, best)
    report.update(best_matmul_flops_per_second=best, theoretical_peak_flops_per_second=peak, peak_formula=how,
                  load_average_before=load_before, load_average_after=load_average())
    print(f"floor rate: best float32 matrix multiply of the whole benchmark {best / 1e9:.1f} GFLOP/s"
          f" (lowest seen {min(RATES) / 1e9:.1f}); theoretical peak "
          + (f"{peak / 1e9:.1f} GFLOP/s ({how}); best / peak {best / peak:.2f}" if peak else f"unknown ({how})"))
    print(f"load average (1, 5, 15 min) before {load_before}, after {report['load_average_after']}")
    print(f"{'case':16} {'size':>5} {'layer':6} {'batch':>5} {'s/step':>10} {'x floor':>7} {'speed-up':>8}")
    for r in report["rows"]:
        print(f"{r['case']:16} {r['size']:5} {r['layer']:6} {r['batch']:5} {r['seconds_per_step']:10.4f} "
              f"{r['ratio_to_floor']:7.2f} {r['speedup_over_naive']:8.2f}")
    report["targets"] = verdicts(report["rows"], device)
    for v in report["targets"]:
        print(f"{'MET' if v['met'] else 'NOT MET':8} {v['target']}: {v['value']:.2f}")
    du.write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
