"""The interactive explorer widget (JupyterLab, Colab): one for every notebook, core ipywidgets only."""
from __future__ import annotations

import threading
from typing import Any, Callable, Sequence

import torch
from torch import nn

from depthrep.assets import PAPER_IMAGES, REPLICATE_IMAGES, ImageError, check_image, load_image, read_image
from depthrep.blur import PAPER_SIZE, paper_blur_sigmas
from depthrep.inversion import invert
from depthrep.metrics import distances
from depthrep.models import WeightsUnavailableError
from depthrep.plots import to_numpy_image
from depthrep.search import search_invert
from depthrep.updates import PROCEDURES

STYLE = {"description_width": "90px"}
# The update buttons: labels for ``updates.PROCEDURES`` (what each asks of ``invert``), the paper's and the stronger
# rules of the tools researchers use
UPDATES = [("paper: gradient step", "paper"), ("Adam", "Adam"), ("momentum + norm. gradient", "momentum"),
           ("Fourier image + Adam", "Fourier"), ("L-BFGS", "L-BFGS")]


NOTEBOOK_TARGET = "the notebook's target"


def uploaded_files(value: Any) -> list[tuple[str, bytes]]:
    """(file name, bytes) of a ``FileUpload``'s value: a dict by name under ipywidgets 7 (Colab), a tuple of
    dicts under ipywidgets 8."""
    if isinstance(value, dict):
        return [(name, bytes(f["content"])) for name, f in value.items()]
    return [(f["name"], bytes(f["content"])) for f in value or ()]


def _control(name: str, spec: Any) -> Any:
    """A widget from a short spec, as ``ipywidgets.interact`` reads them: a list of options (a slider when
    there are more than three, buttons otherwise; a dict gives labels), (min, max[, step]) of ints or
    floats, or a bool."""
    import ipywidgets as w

    kw = dict(description=name.replace("_", " "), style=STYLE)
    if isinstance(spec, bool):
        return w.Checkbox(value=spec, indent=False, **kw)
    if isinstance(spec, tuple) and all(isinstance(v, int) for v in spec):
        return w.IntSlider(min=spec[0], max=spec[1], step=spec[2] if len(spec) > 2 else 1, value=spec[0], **kw)
    if isinstance(spec, tuple):
        step = spec[2] if len(spec) > 2 else (spec[1] - spec[0]) / 20
        return w.FloatSlider(min=spec[0], max=spec[1], step=step, value=spec[0], **kw)
    options = list(spec.items()) if isinstance(spec, dict) else list(spec)
    if len(options) > 3:
        return w.SelectionSlider(options=options, **kw)
    return w.ToggleButtons(options=options, **dict(kw, style=dict(STYLE, button_width="auto")))


class Explorer:
    """Invert interactively: the notebook's own controls choose the model, common ones the run.

    ``controls`` maps a control's name to its spec (see ``_control``: a list of options, a (min, max[, step])
    range, or a bool; ``values`` overrides the start values). ``build(**values)`` returns the model to invert
    (truncated at its layer) and a title naming what it is (model, weights, layer ...). Common controls: step
    size (log scale) with **Search**, which runs the batched line search for the current choice (every run as
    long as the iterations slider), sets the slider and shows the best run; iterations; blur (eq. 5; leave
    out with ``blur=None``, on at the start with ``blur=True``); the update (the paper's gradient step, Adam, momentum with a normalised gradient,
    the Fourier image with Adam, or L-BFGS: ``updates.PROCEDURES``). **Run** inverts in a background thread with a progress
    bar of its own; **Stop** ends the run at the next step. The figure shows the target,
    a_g and m_g / m_i over the run with m_s; the readout the final m_g, m_s, m_i. Eq. (5)'s sigmas for each
    image are the recipe's (``blur.paper_blur_sigmas``), calibrated on its 299-px copy: ``image`` names the file or
    paper image the notebook's target was loaded from (without it, a blurred run of that target says so). ``chosen(values)`` may return
    the step size the notebook's own search chose for those values: the slider then moves there when the
    controls change. ``last`` holds the latest run (with ``search``, the search's table, after a Search).

    The **image** control (``images=True``) swaps the target for the paper's images, the replicate photographs
    or a file of your own (**Upload**), each read at the target's size through ``load_image`` / ``read_image``:
    a file that cannot be used gets the loader's message in the readout and the previous image stays.
    """

    def __init__(self, target: torch.Tensor, build: Callable[..., tuple[nn.Module, str]], controls: dict[str, Any],
                 values: dict[str, Any] | None = None, step_size: float = 0.01, steps: int = 100,
                 blur: bool | None = False, chosen: Callable[[dict], float | None] | None = None,
                 search_step_sizes: Sequence[float] = (1.0, 0.1, 0.01, 0.001, 0.0001), images: bool = True,
                 image: str | None = None) -> None:
        import ipywidgets as w

        self.target, self.build, self.chosen = check_image(target, "target"), build, chosen
        self.search_step_sizes = list(search_step_sizes)
        self.controls = {name: _control(name, spec) for name, spec in controls.items()}
        for name, value in (values or {}).items():
            self.controls[name].value = value
        self.step_size = w.FloatLogSlider(value=step_size, base=10, min=-6, max=3, step=0.05, readout_format=".3g",
                                          description="step size", style=STYLE)
        self.steps = w.IntSlider(value=steps, min=10, max=5000, step=10, description="iterations", style=STYLE)
        self.blur = w.Checkbox(value=bool(blur), description="blur (eq. 5)", indent=False, style=STYLE)
        self.update = w.ToggleButtons(options=UPDATES, description="update",
                                         style=dict(STYLE, button_width="170px"))  # labels in full
        self.button = w.Button(description="Run", button_style="primary", icon="play")
        self.stop = w.Button(description="Stop", disabled=True, icon="stop")
        self.search = w.Button(description="Search step size", icon="search",
                               tooltip="batched line search, runs as long as the iterations; shows the best")
        self.bar = w.IntProgress(value=0, min=0, max=1, description="", layout=w.Layout(width="260px"))
        self.readout, self.out = w.HTML(), w.Output()
        self._images = {NOTEBOOK_TARGET: (self.target, NOTEBOOK_TARGET)}  # label -> (loaded target, its source)
        self._references: dict[str, Any] = {NOTEBOOK_TARGET: image}  # label -> its 299-px copy, or where to load it
        self._sigmas: dict[str, tuple[float, float]] = {}  # label -> eq. (5)'s sigmas
        self.image = w.Dropdown(options=[NOTEBOOK_TARGET, *PAPER_IMAGES, *REPLICATE_IMAGES], description="image",
                                style=STYLE)
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="your image")
        self.image.observe(lambda change: self._choose_image(change["old"], change["new"]), names="value")
        self.upload.observe(lambda change: self._uploaded(change["new"]), names="value")
        self.button.on_click(lambda _: self.start())
        self.stop.on_click(lambda _: self._stop.set())
        self.search.on_click(lambda _: self.start(search=True))
        for widget in self.controls.values():
            widget.observe(lambda _: self._recall(), names="value")
        self.blur.observe(lambda _: self._recall(), names="value")
        common = [self.step_size, self.steps] + ([self.blur] if blur is not None else []) + [self.update]
        chooser = [w.HBox([self.image, self.upload])] if images else []
        self.widget = w.VBox([*chooser, *self.controls.values(), *common,
                              w.HBox([self.button, self.stop, self.search, self.bar]), self.readout, self.out])
        self._built: dict[tuple, tuple[nn.Module, str]] = {}
        self._stop, self.thread = threading.Event(), None
        self.last: dict | None = None
        self.figure: Any = None
        self._recall()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def values(self) -> dict:
        return {name: widget.value for name, widget in self.controls.items()} | {"blur": bool(self.blur.value)}

    def _recall(self) -> None:
        """Move the step size to the value the notebook's own search chose for these controls, if any."""
        value = self.chosen(self.values()) if self.chosen else None
        if value:
            self.step_size.value = float(value)

    def _model(self) -> tuple[nn.Module, str]:
        key = tuple(sorted((k, str(v)) for k, v in self.values().items() if k != "blur"))
        if key not in self._built:
            self._built = {key: self.build(**{k: w.value for k, w in self.controls.items()})}  # keep one model
        return self._built[key]

    def start(self, search: bool = False) -> threading.Thread:
        """Run (or search) in a background thread, so Stop and the progress bar stay live; ``wait`` joins it."""
        if self.thread is not None and self.thread.is_alive():
            return self.thread
        self.thread = threading.Thread(target=self.search_step_size if search else self.run, daemon=True)
        self.thread.start()
        return self.thread

    def wait(self) -> dict | None:
        if self.thread is not None:
            self.thread.join()
        return self.last

    def _busy(self, busy: bool) -> None:
        self.button.disabled = self.search.disabled = busy
        self.stop.disabled = not busy
        for widget in [*self.controls.values(), self.step_size, self.steps, self.blur, self.update, self.image,
                       self.upload]:
            widget.disabled = busy

    def _choose_image(self, old: str, label: str) -> None:
        """Make ``label`` the target: loaded once at the target's size; on failure the readout says why and the
        control goes back to ``old``."""
        if label not in self._images:
            try:
                x, source = load_image(label, int(self.target.shape[-1]))
            except (ImageError, ValueError, OSError) as err:
                self.image.value = old
                self._fail(err)
                return
            self._images[label] = (x.to(self.target.device), source)
        self.target, source = self._images[label]
        self.readout.value = f"image: {source}, {self.target.shape[-1]} px; Run to invert it"

    def _uploaded(self, value: Any) -> None:
        """An uploaded file becomes a choice of the image control and the target, or the readout says why not."""
        files = uploaded_files(value)
        if not files:
            return
        name, data = files[-1]
        try:
            x = read_image(data, int(self.target.shape[-1]), name=name)
        except (ImageError, ValueError, OSError) as err:
            self._fail(err)
            return
        label = f"upload: {name}"
        self._images[label] = (x.to(self.target.device), f"{name} (uploaded)")
        self._references[label] = lambda: read_image(data, PAPER_SIZE, name=name)
        self._sigmas.pop(label, None)
        if label not in self.image.options:
            self.image.options = [*self.image.options, label]
        self.image.value = label
        self._choose_image(label, label)  # also when it was already the choice (a new file of the same name)

    def _blur_sigmas(self) -> tuple[float, float]:
        """Eq. (5)'s sigmas for the current image (``paper_blur_sigmas`` against its 299-px copy), once each."""
        label = self.image.value
        if label not in self._sigmas:
            reference = self._references.get(label, label)  # a paper image or photograph: by its name
            if reference is None:
                raise ValueError("eq. (5)'s blur sigmas are calibrated on the target's 299-px copy, and this explorer "
                                 "was not told where its target came from: pass Explorer(..., image=NAME_OR_PATH), "
                                 "or turn the blur off.")
            reference = reference() if callable(reference) else load_image(reference, PAPER_SIZE)[0]
            self._sigmas[label] = paper_blur_sigmas(self.target, reference)
        return self._sigmas[label]

    def _fail(self, err: Exception) -> None:
        self.readout.value = f"<b style='color:#b00'>{type(err).__name__}</b>: {err}"
        self.out.outputs = ()
        self.figure, self.last = None, None

    def search_step_size(self) -> dict | None:
        """The batched line search for the current choice, every run as long as the iterations slider: the
        slider moves to the best step size and the best run is shown as the result (no second run).
        Returns its numbers."""
        return self.run(search=True)

    def run(self, search: bool = False) -> dict | None:
        """Invert with the current settings (``search``: the best of a batched line search over
        ``search_step_sizes``, every run as long), update the display, and return (and keep) the numbers."""
        steps, step_size = int(self.steps.value), float(self.step_size.value)
        update = next(label for label, value in UPDATES if value == self.update.value)
        self._busy(True)
        self._stop.clear()
        self.bar.max, self.bar.value = steps, 0
        self.readout.value = (f"searching {len(self.search_step_sizes)} step sizes, {steps} steps each (one batch)"
                              " ..." if search else "running ...")
        every = max(1, steps // 100)

        def on_step(k: int) -> bool:
            if k % every == 0 or k == steps:
                self.bar.value = k
            return self._stop.is_set()

        try:
            model, title = self._model()
            kw = {**dict(blur=self._blur_sigmas() if self.blur.value else None, decay_to=0.0, record_every=every, on_step=on_step, progress=False),
                  **PROCEDURES[self.update.value]}  # a procedure's own schedule wins (L-BFGS: constant)
            if search:
                run, table = search_invert(model, self.target, self.search_step_sizes, steps, **kw)
                step_size = float(run.step_size[0])
            else:
                run = invert(model, self.target, steps, step_size, **kw)
        except (WeightsUnavailableError, FloatingPointError, ValueError) as err:  # ValueError: e.g. Fourier + blur
            self._fail(err)
            return None
        finally:
            self._busy(False)
        done = int(self.bar.value)
        if search:
            self.step_size.value = step_size
        d = distances(model, self.target, run.images)
        self.last = dict(self.values(), target=self.image.value, title=title, step_size=step_size, steps=steps,
                         steps_run=done, update=self.update.value, image=run.images[0], history=run.history,
                         at=run.steps,
                         search=table if search else None, **{k: float(v[0]) for k, v in d.items()})
        matched = "m_g < m_s: embedding matched" if self.last["m_g"] < self.last["m_s"] else \
            "m_g >= m_s: NOT matched, the image says little about the layer"
        stopped = f" (stopped after {done} of {steps} steps)" if done < steps else ""
        searched = ("<br>best of the search (final m_g per step size: "
                    + ", ".join(f"{s:.3g}: {m:.3g}" for s, m in table.items()) + ")") if search else ""
        self.readout.value = (f"m_g = {self.last['m_g']:.4g} &nbsp; m_s = {self.last['m_s']:.4g} &nbsp; "
                              f"m_i = {self.last['m_i']:.4g} &nbsp; ({matched}; {run.seconds:.1f} s){stopped}"
                              + searched)
        self.figure = self._draw(run, title, f"{update}, step size {step_size:.3g}, {done} steps"
                                 + (", blur" if self.blur.value else "") + (", best of search" if search else ""))
        self.out.outputs = ()
        self.out.append_display_data(self.figure)
        return self.last

    def _draw(self, run: Any, title: str, how: str) -> Any:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10.5, 3.4))
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.5]})
        axes[0].imshow(to_numpy_image(self.target), interpolation="nearest"), axes[0].set_title("target a")
        matched = self.last["m_g"] < self.last["m_s"]
        axes[1].imshow(to_numpy_image(run.images), interpolation="nearest")
        axes[1].set_title("generated a_g" if matched else "generated a_g\nNOT matched (m_g >= m_s)",
                          color="black" if matched else "#b00")
        for ax in axes[:2]:
            ax.set_axis_off()
        at = [max(int(s), 1) for s in run.steps]
        axes[2].semilogy(at, run.history["m_g"][:, 0], label="m_g (embedding)")
        axes[2].semilogy(at, run.history["m_i"][:, 0], label="m_i (input)")
        axes[2].axhline(self.last["m_s"], color="gray", ls="--", label="m_s (shifted a')")
        axes[2].set_xlabel("iteration"), axes[2].set_ylabel("L2 distance"), axes[2].legend(fontsize=7)
        axes[2].set_title("distances over the run")
        fig.suptitle(f"{title}\n{how}", fontsize=9)
        fig.tight_layout()
        return fig
