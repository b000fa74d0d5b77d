"""The ``?`` screen: each control and each hyperparameter in a sentence tied to the book."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from nntui.tui.widgets.key_bar import KeyBar

HELP = """\
# nntui: Chapter 1's network, learning while you watch

## Controls

- `s` or `space` **Start**: trains with the settings on the left by mini-batch stochastic
  gradient descent, the book's `SGD`. After a run ends, Start trains the same network further.
- `space` **Pause / Resume** during a run: waits between two mini-batches; nothing is lost.
- `t` **eta**, `E` **Epochs**: puts the cursor in that field, before or during a run; type
  the new value and press Enter. "Ten more epochs" is `E`, the number, Enter.
- `x` **Stop**: ends the run after the current mini-batch; that epoch is not evaluated.
- `r` **Reset**: throws the network away and draws new weights and biases from a Gaussian
  with mean 0 and standard deviation 1, as the book's `Network.__init__` does.
- `n` **Resample**: picks other test images for the gallery.
- `d` **Digits / charts**: on small terminals, switches between the charts and the gallery.
- `b` **Baselines**: shows the accuracy chart from 0 to 100% with the chapter's baselines:
  random guessing (10%), the average-darkness classifier (the book: 2,225 / 10,000) and the
  SVM (the book: 9,435; measured here once `nntui baseline svm` has run).
- `.` **One mini-batch** and `e` **one epoch**: while paused or before the first start, one
  step of gradient descent (Eqs. 20-21), or training to the end of the epoch; every view
  follows. `space` runs on.
- `-` / `+` **Slower / faster**: a speed limit in mini-batches per second (shown under the
  progress bar), so the cost can be watched falling batch by batch; full speed by default.
- `a` **Art**: draws the gallery's digits in half blocks, braille or plain ASCII.

## Looking inside (`escape` comes back)

- `p` **Draw**: draw a digit with the mouse (`c` clears, `u` undoes); it is centred and scaled
  like MNIST's digits and the ten output activations show what the network makes of it.
- `c` **Confusion**: which digits are taken for which, on the evaluation set; pick a cell to
  see those images.
- `m` **Mistakes**: page through the images the network gets wrong, with its ten outputs.
- `w` **Neurons**: each hidden neuron's 784 input weights as a 28 x 28 picture: what it looks for.
- `l` **Layers**: per epoch and per layer, the share of stuck neurons (the same answer for
  99% of the images), of saturated outputs (below 0.01 or above 0.99, where sigma' is tiny
  and learning slow: Chapter 3's point), the gradient's size and the weights' norm.
- `g` **Gallery digits**: the gallery's digits one at a time, with every layer's activations:
  the hidden layer as a strip of shaded cells, the outputs as bars (also on `p` and `m`).
- `R` **Runs**: every run is kept; overlay their accuracy curves (`space`), look inside a saved
  network, or `t` to load it here and train it further.
- `S` **Sweep**: many runs at once, like `nntui sweep`: type the axes (`eta` `0.5,3,10`,
  `hidden` `30,100,100-30,0`, ...), checked as you type, and `ctrl+s` starts them on one
  worker process per core but one; or `f` follows the newest sweep in the runs store; or `c`
  continues an interrupted sweep (the one shown, else the newest with runs left): only its
  missing runs, like `nntui sweep --continue`. One colour per configuration with its min-max
  band over seeds; `o` sorts the table.

- `?` **Help**: this screen (`escape` closes it).
- `q` or `ctrl+c` **Quit**: stops training after the current mini-batch and leaves.

Enter or `escape` leaves an input, so that the keys above work again. The buttons,
inputs and the keys in the footer also work with the mouse.

## Hyperparameters

- **layers**: neurons per layer, input first. `784,30,10` is the book's `Network([784, 30, 10])`:
  784 inputs (28 x 28 pixels), 30 hidden neurons and 10 outputs, one per digit.
  With 100 hidden neurons the book reaches 96.59%.
- **eta**: the learning rate η in the update rule w → w - (η/m) Σ ∂C_x/∂w (Eqs. 20 and 21).
  The book uses 3.0; with 0.001 learning crawls, with 100 it is unstable.
  It may be changed during a run (press Enter): it applies from the next mini-batch.
- **epochs**: passes over the training set. The book trains for 30 epochs; its best is 95.42%.
  It may be raised or lowered during a run, but not below the epoch under way, which is
  always finished.
- **mini-batch**: m, the number of images whose gradients are averaged for one step. The book
  uses 10. It may be changed during a run, like eta.
- **train size**: train on the first n of the 50,000 training images (the book keeps the other
  10,000 of MNIST's 60,000 aside as the validation set).
- **seed**: fixes the random initial weights and the order of the mini-batches, so that a run
  can be repeated; empty for a random seed. It applies to a new network (Reset, or the first Start).
- **eval on**: the book reports accuracy on the 10,000 test images after each epoch; the
  validation set is the one to tune hyperparameters on (Chapter 3).
- **backprop**: `matrix` computes the gradient of a whole mini-batch with a few matrix products
  (the "fully matrix-based approach" of Chapter 2); `per-sample` is the book's `backprop`, one
  image at a time. Same result, different speed: the measured seconds per epoch of each appear
  under it.

## What you see

- **Accuracy**: the fraction of evaluation images whose most active output neuron is the right
  digit, after each epoch, the book's `Epoch j: n / 10000`. Dashed: the book's 95.42%.
- **Cost**: the quadratic cost C = 1/2n Σ ‖y(x) - a‖² (Eq. 6) of the mini-batches of the current
  epoch, each point the mean over about 1,000 images. Gradient descent pushes it down.
- **Digits**: test images, each with its label and the network's guess (its most active output),
  green when right and red when wrong, redrawn after every epoch. ✱ marks a guess that changed
  since the previous epoch.
"""


class HelpScreen(ModalScreen[None]):
    """Help over the dashboard; ``escape`` or ``?`` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "dismiss", "Close help"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#help-body").border_title = "Help"
        self.query_one("#help-body").border_subtitle = "escape to close"
