"""The hyperparameter panel: one line per setting, checked as it is typed.

Each input is parsed by the same ``nntui.engine.config.parse_*`` function the CLI
uses, as it is typed (that input alone); its `ConfigError` message appears under
the input. While a run is in progress only eta, the mini-batch size and the
number of epochs stay editable (`LIVE`): a valid new value is sent to the screen
once, as a `HyperParams.LiveSetting`, when Enter is pressed or the field is left.
What the trainer then keeps comes back through `show_applied`, which posts nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import var
from textual.widgets import Input, Label, Select, Static

from nntui.engine.config import (
    TrainConfig,
    format_sizes,
    parse_epochs,
    parse_eta,
    parse_mini_batch_size,
    parse_seed,
    parse_sizes,
    parse_train_size,
)
from nntui.engine.errors import ConfigError
from nntui.tui.widgets.text_update import update_text

# What the trainer re-reads before every mini-batch (`Trainer.set_live`).
LIVE = ("eta", "mini_batch_size", "epochs")


@dataclass(frozen=True)
class Field:
    name: str  # the TrainConfig field, and the input's id
    label: str
    parse: Callable[[str, dict[str, Any]], Any]  # (text, values parsed so far) -> value
    show: Callable[[TrainConfig], str]
    placeholder: str = ""


FIELDS = (
    Field("sizes", "layers", lambda t, _: parse_sizes(t), lambda c: format_sizes(c.sizes)),
    Field("eta", "eta", lambda t, _: parse_eta(t), lambda c: f"{c.eta:g}"),
    Field("epochs", "epochs", lambda t, _: parse_epochs(t), lambda c: str(c.epochs)),
    Field(
        "mini_batch_size",
        "mini-batch",
        # Checked against the training-set size, when that one is valid.
        lambda t, v: parse_mini_batch_size(t, v.get("train_size") or TrainConfig.train_size),
        lambda c: str(c.mini_batch_size),
    ),
    Field(
        "train_size", "train size", lambda t, _: parse_train_size(t), lambda c: str(c.train_size)
    ),
    Field(
        "seed",
        "seed",
        lambda t, _: parse_seed(t),
        lambda c: "" if c.seed is None else str(c.seed),
        placeholder="random",
    ),
)
EVAL_SETS = (("test", "test"), ("validation", "validation"))
BACKPROPS = (("matrix", "matrix"), ("per-sample", "per-sample"))
SPEEDS_PENDING = "per epoch: timed as it trains"


class FieldInput(Input):
    """An `Input` that applies every key in the order it was typed.

    Textual's `Input` inserts a printable key when the key arrives, but runs an
    editing key (backspace, delete, the arrows, home, end) as a binding only
    after the key event has bubbled up to the app. Keys that arrive together
    (fast typing, a terminal multiplexer, a paste of keystrokes) were therefore
    applied out of order: three backspaces then ``1e308`` gave ``31e``. Here
    the input's own bindings run at once, in order, like the characters.
    """

    async def _on_key(self, event: events.Key) -> None:
        bindings = self._bindings.key_to_bindings.get(event.key, [])
        if not event.is_printable and bindings:
            event.stop()
            event.prevent_default()
            self._restart_blink()
            await self.run_action(bindings[0].action)
            return
        await super()._on_key(event)


class HyperParams(Vertical):
    """An input per `TrainConfig` field the book varies, each with its reason when invalid."""

    @dataclass
    class Changed(Message):
        """The panel was edited.

        ``config`` is the run those values describe, or None while any is invalid;
        ``error`` is then the first reason, as shown next to its input.
        """

        config: TrainConfig | None
        error: str | None

    @dataclass
    class LiveSetting(Message):
        """A valid new eta, mini-batch size or number of epochs was entered, during a run."""

        name: str  # one of `LIVE`, as `Trainer.set_live` names them
        value: float

    running: var[bool] = var(False, init=False)
    """A run is in progress: lock everything except the `LIVE` settings."""

    def __init__(
        self,
        config: TrainConfig,
        *,
        cursor_blink: bool = True,
        speeds: bool = True,
        **kwargs: Any,
    ) -> None:
        """``speeds``: keep a line for the measured seconds per epoch (`show_speeds`)."""
        super().__init__(**kwargs)
        self._base = config
        self._cursor_blink = cursor_blink
        self._speeds = speeds
        self._applied: dict[str, float] = {
            "eta": config.eta,
            "mini_batch_size": config.mini_batch_size,
        }
        self._errors: dict[str, str] = {}
        self._values: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        for field in FIELDS:
            with Horizontal(classes="field"):
                yield Label(field.label, classes="name")
                yield FieldInput(
                    field.show(self._base),
                    placeholder=field.placeholder,
                    id=field.name,
                    compact=True,
                    select_on_focus=False,
                )
            yield Static("", id=f"{field.name}-error", classes="error")
        with Horizontal(classes="field"):
            yield Label("eval on", classes="name")
            yield Select(
                EVAL_SETS, value=self._base.eval_on, allow_blank=False, compact=True, id="eval_on"
            )
        with Horizontal(classes="field"):
            yield Label("backprop", classes="name")
            yield Select(
                BACKPROPS, value=self._base.backprop, allow_blank=False, compact=True, id="backprop"
            )
        # Its line is there from the start: a line appearing at the first epoch's end laid
        # the screen out twice, 40-60 ms on a slow machine, while a key waited.
        shown = "-shown" if self._speeds else ""
        yield Static(SPEEDS_PENDING if self._speeds else "", id="speeds", classes=f"note {shown}")

    def on_mount(self) -> None:
        self.border_title = "Hyperparameters"
        for node in self.query(Input):
            node.cursor_blink = self._cursor_blink
        self._check()

    # Reading ----------------------------------------------------------------------------

    def read(self) -> tuple[TrainConfig | None, str | None, str | None]:
        """The config the inputs describe, or (None, first reason, its field) if any is invalid."""
        for field in FIELDS:
            if field.name in self._errors:
                return None, self._errors[field.name], field.name
        eval_on = self.query_one("#eval_on", Select).value
        backprop = self.query_one("#backprop", Select).value
        config = self._base.with_changes(**self._values, eval_on=eval_on, backprop=backprop)
        return config, None, None

    def show_config(self, config: TrainConfig) -> None:
        """Put every value of ``config`` in the inputs (a loaded model's settings)."""
        for field in FIELDS:
            self.query_one(f"#{field.name}", Input).value = field.show(config)
        self.query_one("#eval_on", Select).value = config.eval_on
        self.query_one("#backprop", Select).value = config.backprop
        self._check()

    def show_speeds(self, seconds: dict[str, float]) -> None:
        """The measured seconds per 50,000-image epoch of each backprop, to compare them."""
        parts = [f"{name} {s:.2f} s" for name, s in sorted(seconds.items())]
        text = f"per epoch: {', '.join(parts)}" if parts else SPEEDS_PENDING
        note = self.query_one("#speeds", Static)
        if text != str(note.content):
            # Each epoch changes a figure, rarely the number of lines: only then is the
            # screen laid out again (a dozen milliseconds or more).
            update_text(note, text)
            note.add_class("-shown")

    def set_text(self, name: str, text: str) -> None:
        """Put ``text`` in an input, as if typed, and check it at once."""
        self.query_one(f"#{name}", Input).value = text
        self._check()

    def focus_field(self, name: str) -> None:
        self.query_one(f"#{name}", Input).focus()

    def show_applied(self, name: str, value: Any) -> None:
        """Show ``value``, the one the trainer uses (it refused or adjusted ours).

        Nothing is posted back: the screen told us, and must not hear it again.
        """
        self._applied[name] = value
        if self._values.get(name) != value:
            with self.prevent(Input.Changed, HyperParams.Changed):
                self.query_one(f"#{name}", Input).value = str(value)
                self._check(name)

    # Checking as it is typed --------------------------------------------------------------

    def _check(self, changed: str | None = None) -> None:
        """Parse the ``changed`` input (every one if None), show its reason, post `Changed`."""
        names = {f.name for f in FIELDS} if changed is None else {changed}
        if "train_size" in names:
            names.add("mini_batch_size")  # its limit is the training-set size
        # The mini-batch size is checked last, for the same reason.
        fields = sorted(
            (f for f in FIELDS if f.name in names), key=lambda f: f.name == "mini_batch_size"
        )
        for field in fields:
            text = self.query_one(f"#{field.name}", Input).value
            self._values.pop(field.name, None)
            self._errors.pop(field.name, None)
            try:
                self._values[field.name] = field.parse(text, self._values)
            except ConfigError as exc:
                self._errors[field.name] = str(exc)
        for field in fields:
            reason = self._errors.get(field.name, "")
            self.query_one(f"#{field.name}", Input).set_class(bool(reason), "-invalid")
            note = self.query_one(f"#{field.name}-error", Static)
            note.update(reason)
            note.set_class(bool(reason), "-shown")
        config, error, _ = self.read()
        self.post_message(HyperParams.Changed(config, error))

    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Select.Changed) -> None:
        event.stop()
        changed = event.input.id if isinstance(event, Input.Changed) else None
        self._check(changed if changed in self._values or changed in self._errors else None)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        # Enter ends the edit: leaving the field hands the keys back to the dashboard.
        self.screen.set_focus(None)
        self._maybe_apply(event)

    @on(Input.Blurred)
    def _maybe_apply(self, event: Input.Submitted | Input.Blurred) -> None:
        event.stop()
        name = event.input.id or ""
        if not self.running or name not in LIVE or name in self._errors:
            return
        value = self._values[name]
        if value != self._applied[name]:
            self._applied[name] = value
            self.post_message(HyperParams.LiveSetting(name, value))

    # Locking while a run is in progress ----------------------------------------------------

    def watch_running(self, running: bool) -> None:
        for field in FIELDS:
            self.query_one(f"#{field.name}", Input).disabled = running and field.name not in LIVE
        self.query_one("#eval_on", Select).disabled = running
        self.query_one("#backprop", Select).disabled = running
        if running:  # what the new run starts with
            self._applied = {name: self._values[name] for name in LIVE}
