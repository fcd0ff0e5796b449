"""Traces: one training step of a model, recorded number by number, printed as a table.

    trace = model.trace(x, y)          # one forward / backward / update step of a compiled Sequential
    print(trace)                       # a table for the terminal (English)
    print(trace.to_text(lang="ko"))    # the same in Korean, with the study notes' terms
    trace                              # in a notebook: a Markdown table (trace.to_markdown())

What is recorded, per layer (`trace.layers`, a list of `LayerTrace`):

    forward    x (the layer's input), W and b (before the update), z = xW + b, a = f(z)
    loss       L, the model's loss on the batch (plus any regularisation penalty)
    backward   dL/da, dL/dz, dL/dW, dL/db and dL/dx (what the layer hands back to the one below)
    update     W and b after the optimizer's step, and the change (after - before)

The numbers are the library's own: the trace runs the model's layers' `forward`,
`backward_logits`/`backward`, its loss and its optimizer on the model's own weights, in the
order `train_on_batch` does, so after `model.trace(x, y)` the weights are exactly those that
`model.train_on_batch(x, y)` would give.  With `update=False` nothing changes: the update is
computed on copies (of the weights and of the optimizer's state) and shown as what would happen.

Sign convention.  The study notes (note 002) write the error of a neuron as
delta = (target - output) * f'(output), for the loss L = 0.5 * sum((output - target)^2):
that is delta = -dL/dz.  The traces show dL/dz (the gradient); `LayerTrace.delta` and
`to_text(deltas=True)` give the notes' delta as well.

`backprop_example()` builds the notes' worked 2-1-2 network (`glassnet explain --example
backprop-2-1-2`).
"""
from __future__ import annotations

import copy
import random
import textwrap
import unicodedata

import numpy as np

LANGS = ("en", "ko")

#: The worked examples `glassnet explain --example NAME` knows.
EXAMPLES = ("backprop-2-1-2",)

# ----------------------------------------------------------------------------
# Words.  Korean uses the study notes' terms: 입력층, 은닉층, 출력층, 가중치, 편향,
# 활성화 함수, 손실 함수, 오차역전파, 기울기, 학습률.
# ----------------------------------------------------------------------------
_WORDS = {
    "en": {
        "title": 'One training step of "{name}" ({arch}): a batch of {n} {samples}, {dtype}',
        "sample": "sample", "samples": "samples", "learning_rate": "learning rate",
        "setup": "loss function: {loss}; optimizer: {optimizer}, learning rate {lr}",
        "forward": "FORWARD PASS",
        "x_note": "In each layer, x is the layer's input: the data for the first layer, the a of the layer below for the others.",
        "backward": "BACKWARD PASS (backpropagation, from the output layer back)",
        "update": "UPDATE",
        "update_skipped": "UPDATE (not applied: update=False; what the optimizer would do)",
        "input_layer": "input layer",
        "hidden_layer": "hidden layer {i}",
        "output_layer": "output layer",
        "other_layer": "layer",
        "units": "{units} units", "unit": "{units} unit",
        "activation_function": "activation function {name}",
        "loss_function": "loss function",
        "quantity": "quantity", "shape": "shape", "values": "values", "layer": "layer",
        "input": "input", "input_of": "input (the output of the layer below)", "target": "target",
        "output": "output",
        "weights": "weights", "bias": "bias", "weighted_sum": "weighted sum",
        "activation": "activation function",
        "loss": "loss", "regularization": "regularisation penalty",
        "gradient": "gradient",
        "grad_a_loss": "gradient of the loss",
        "grad_a_next": "= dL/dx of the layer above",
        "grad_z": "gradient",
        "grad_W": "gradient of the weights",
        "grad_b": "gradient of the bias",
        "grad_x": "to the layer below",
        "fused": "{act} fused with cross-entropy: no dL/da is needed",
        "delta": "the notes' delta",
        "delta_note": ("Sign convention: the study notes' delta = -dL/dz (note 002: delta = (target - output) "
                       "* f'(output), for L = 0.5 * sum((output - target)^2)); the update w += learning rate "
                       "* delta * input is w -= learning rate * dL/dW."),
        "after": "after", "change": "change (after - before)",
        "rule_sgd": "rule: W <- W - learning rate * dL/dW (and b likewise)",
        "rule_other": "rule: see glassnet.optimizers.{name}",
        "not_trained": "not trained (before the first layer with weights): no gradient needed",
        "frozen": "trainable=False: not updated",
        "summary": "min {min}  max {max}  mean {mean}",
        "example_title": "Study note 002 (Neural Net Basic (1)): the worked 2-1-2 network",
        "example_intro": [
            "Weights from Python's random.seed(1), initialize_network(2, 1, 2): each of the note's neurons",
            "[w_1, ..., w_n, bias] is one column of glassnet's W (in, out) and one entry of b (out,).",
            "Input row [1, 0], target [0, 1]; loss L = 0.5 * sum((output - target)^2), which is glassnet's",
            "'mse' here (one sample, two outputs: mean = sum / 2); sigmoid everywhere; float64.",
        ],
        "example_check": "Check against the note",
        "example_rows": ["hidden output", "outputs", "hidden delta", "output deltas"],
        "example_printed": "note prints",
    },
    "ko": {
        "title": '"{name}" 학습 한 단계 ({arch}): 샘플 {n}개의 배치, {dtype}',
        "sample": "", "samples": "", "learning_rate": "학습률",
        "setup": "손실 함수: {loss}; 옵티마이저: {optimizer}, 학습률 {lr}",
        "forward": "순전파 (forward pass)",
        "x_note": "각 층의 x는 그 층의 입력입니다: 첫 층은 데이터, 나머지 층은 아래 층의 a.",
        "backward": "오차역전파 (backpropagation): 출력층에서 거꾸로",
        "update": "가중치 갱신 (update)",
        "update_skipped": "가중치 갱신 (적용하지 않음: update=False; 옵티마이저가 할 갱신)",
        "input_layer": "입력층",
        "hidden_layer": "은닉층 {i}",
        "output_layer": "출력층",
        "other_layer": "층",
        "units": "뉴런 {units}개", "unit": "뉴런 {units}개",
        "activation_function": "활성화 함수 {name}",
        "loss_function": "손실 함수",
        "quantity": "기호", "shape": "형상", "values": "값", "layer": "층",
        "input": "입력", "input_of": "입력 (아래 층의 출력)", "target": "정답 (target)",
        "output": "출력",
        "weights": "가중치", "bias": "편향", "weighted_sum": "가중합",
        "activation": "활성화 함수",
        "loss": "손실", "regularization": "규제 항",
        "gradient": "기울기",
        "grad_a_loss": "손실 함수의 기울기",
        "grad_a_next": "= 위 층의 dL/dx",
        "grad_z": "기울기",
        "grad_W": "가중치의 기울기",
        "grad_b": "편향의 기울기",
        "grad_x": "아래 층으로 전달",
        "fused": "{act}와 교차 엔트로피를 한 번에 계산: dL/da는 필요 없음",
        "delta": "노트의 delta",
        "delta_note": ("부호: 노트의 delta = -dL/dz (노트 002: delta = (정답 - 출력) * f'(출력), "
                       "손실 함수 L = 0.5 * sum((출력 - 정답)^2)); 갱신 w += 학습률 * delta * 입력 은 "
                       "w -= 학습률 * dL/dW 와 같습니다."),
        "after": "갱신 후", "change": "변화량 (갱신 후 - 갱신 전)",
        "rule_sgd": "규칙: W <- W - 학습률 * dL/dW (b도 같음)",
        "rule_other": "규칙: glassnet.optimizers.{name} 참고",
        "not_trained": "첫 가중치 층보다 앞: 기울기를 계산하지 않음",
        "frozen": "trainable=False: 갱신하지 않음",
        "summary": "최솟값 {min}  최댓값 {max}  평균 {mean}",
        "example_title": "노트 002 (인공신경망 기초 (1)): 손으로 계산하는 2-1-2 신경망",
        "example_intro": [
            "가중치는 Python의 random.seed(1), initialize_network(2, 1, 2)에서 나온 값입니다. 노트의 뉴런",
            "[w_1, ..., w_n, 편향] 하나가 glassnet의 W (입력, 출력)의 한 열과 b (출력,)의 한 값입니다.",
            "입력 [1, 0], 정답 [0, 1]; 손실 함수 L = 0.5 * sum((출력 - 정답)^2) 는 여기서 glassnet의",
            "'mse'와 같습니다 (샘플 1개, 출력 2개: 평균 = 합 / 2). 활성화 함수는 모두 sigmoid, float64.",
        ],
        "example_check": "노트와 비교",
        "example_rows": ["은닉층 출력", "출력층 출력", "은닉층 delta", "출력층 delta"],
        "example_printed": "노트의 값",
    },
}

_DZ_RULES = {
    "linear": "dL/dz = dL/da",
    "sigmoid": "dL/dz = dL/da * a(1 - a)",
    "tanh": "dL/dz = dL/da * (1 - a^2)",
    "relu": "dL/dz = dL/da * [z > 0]",
    "softmax": "dL/dz = a * (dL/da - sum(dL/da * a))",
}

_DA_RULES = {
    "mean_squared_error": "dL/da = 2(a - t) / (n*k)",
    "mean_absolute_error": "dL/da = sign(a - t) / (n*k)",
    "categorical_crossentropy": "dL/da = -t / a / n",
    "sparse_categorical_crossentropy": "dL/da = -1/a[label] / n",
    "binary_crossentropy": "dL/da = (a - t) / (a(1 - a)) / (n*k)",
}


def _words(lang):
    if lang not in _WORDS:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(repr(k) for k in LANGS)}")
    return _WORDS[lang]


# ----------------------------------------------------------------------------
# The records
# ----------------------------------------------------------------------------

class LayerTrace:
    """What one layer did in the step.  Arrays are copies; None where a quantity does not apply.

    input, output (= a), z            forward (z only for layers with weights, Dense)
    weights / weights_after           {"W": ..., "b": ...} before and after the update
    grad_output (= dL/da)             None when the loss is fused with the activation
    grad_z (= dL/dz)                  the gradient at the weighted sum
    grads                             {"W": dL/dW, "b": dL/db}
    grad_input (= dL/dx)              what goes back to the layer below (None for the first one)
    """

    def __init__(self, name, kind, role, activation=None, units=None):
        self.name, self.kind, self.role = name, kind, role
        self.activation, self.units = activation, units
        self.input = self.output = self.z = None
        self.weights: dict[str, np.ndarray] = {}
        self.weights_after: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.grad_output = self.grad_z = self.grad_input = None
        self.fused = False            # the loss took dL/dz straight from the logits
        self.backward_ran = False
        self.trainable = True

    # the textbook names
    x = property(lambda self: self.input)
    a = property(lambda self: self.output)
    W = property(lambda self: self.weights.get("W"))
    b = property(lambda self: self.weights.get("b"))
    W_after = property(lambda self: self.weights_after.get("W"))
    b_after = property(lambda self: self.weights_after.get("b"))
    dL_da = property(lambda self: self.grad_output)
    dL_dz = property(lambda self: self.grad_z)
    dL_dx = property(lambda self: self.grad_input)
    dW = property(lambda self: self.grads.get("W"))
    db = property(lambda self: self.grads.get("b"))

    @property
    def delta(self):
        """The study notes' delta = -dL/dz (note 002: (target - output) * f'(output))."""
        return None if self.grad_z is None else -self.grad_z

    @property
    def update(self) -> dict:
        """{"W": after - before, "b": ...}: what the optimizer changed (or would change)."""
        return {k: self.weights_after[k] - self.weights[k] for k in self.weights if k in self.weights_after}

    def __repr__(self):
        return f"<LayerTrace {self.name!r} ({self.kind}) role={self.role!r}>"


class Trace:
    """One training step of a model, recorded.  `str(trace)` is a table; `to_markdown()` for notebooks.

    Attributes: layers (list of LayerTrace), x, y, loss, outputs, model_name, architecture,
    dtype, loss_name, optimizer_name, learning_rate, applied (was the update applied?).
    `trace["dense"]` or `trace[0]` picks a layer.
    """

    def __init__(self):
        self.layers: list[LayerTrace] = []
        self.x = self.y = None
        self.loss = 0.0
        self.data_loss = 0.0
        self.regularization = 0.0
        self.model_name = ""
        self.architecture = ""
        self.dtype = ""
        self.loss_name = ""
        self.optimizer_name = ""
        self.optimizer_config: dict = {}
        self.learning_rate = None
        self.plain_sgd = False
        self.applied = True
        self.lang = "en"
        self.precision = 4
        self.max_items = 40

    @property
    def outputs(self):
        return self.layers[-1].output if self.layers else None

    def __getitem__(self, key):
        if isinstance(key, str):
            for layer in self.layers:
                if layer.name == key:
                    return layer
            raise KeyError(f"no layer named {key!r}; layers: {', '.join(l.name for l in self.layers)}")
        return self.layers[key]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    # -- output --------------------------------------------------------------
    def to_text(self, lang=None, precision="default", max_items=None, deltas=False) -> str:
        """The trace as a table for a terminal.

        lang: "en" or "ko"; precision: significant digits (None: every digit, as repr(float));
        max_items: arrays larger than this are summarised (shape, min, max, mean);
        deltas: also show the notes' delta = -dL/dz.
        """
        lang = lang or self.lang
        items = self._document(lang, deltas)
        return _render_text(items, self._precision(precision), max_items or self.max_items, lang)

    def to_markdown(self, lang=None, precision="default", max_items=None, deltas=False) -> str:
        """The trace as Markdown tables (for notebooks and documents)."""
        lang = lang or self.lang
        items = self._document(lang, deltas)
        return _render_markdown(items, self._precision(precision), max_items or self.max_items, lang)

    def _precision(self, precision):
        precision = self.precision if precision == "default" else precision
        if precision is not None and (isinstance(precision, bool) or not isinstance(precision, (int, np.integer))
                                      or precision < 1):
            raise ValueError(f"precision must be a positive number of significant digits or None, got {precision!r}")
        return precision

    def _repr_markdown_(self):
        return self.to_markdown()

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        return (f"<Trace {self.model_name!r} {self.architecture} loss={self.loss:.6g} "
                f"applied={self.applied} layers={len(self.layers)}>")

    # -- the content, shared by both renderers -------------------------------
    def _role_label(self, layer, w):
        if layer.role == "output":
            return w["output_layer"]
        if layer.role.startswith("hidden"):
            return w["hidden_layer"].format(i=layer.role.split()[1])
        return w["other_layer"]

    def _heading(self, layer, w):
        parts = [f"{layer.kind}"]
        if layer.units is not None:
            parts.append(w["units" if layer.units != 1 else "unit"].format(units=layer.units))
        if layer.activation is not None:
            parts.append(w["activation_function"].format(name=layer.activation))
        return f"{self._role_label(layer, w)}: {layer.name} ({', '.join(parts)})"

    def _document(self, lang, deltas):
        w = _words(lang)
        n = 0 if self.x is None else len(self.x)
        word = w["sample"] if n == 1 else w["samples"]
        title = w["title"].format(name=self.model_name, arch=self.architecture, n=n, samples=word, dtype=self.dtype)
        doc = [("title", title)]
        lr = "?" if self.learning_rate is None else _number(self.learning_rate, None)
        doc.append(("text", w["setup"].format(loss=self.loss_name, optimizer=self.optimizer_name, lr=lr)))

        # forward
        doc.append(("section", w["forward"]))
        doc.append(("text", w["x_note"]))
        doc.append(("layer", w["input_layer"]))
        doc.append(("row", f"x  {w['input']}", self.x))
        doc.append(("row", f"t  {w['target']}", self.y))
        for layer in self.layers:
            doc.append(("layer", self._heading(layer, w)))
            if layer.kind == "Dense":
                doc.append(("row", f"W  {w['weights']}", layer.W))
                if layer.b is not None:
                    doc.append(("row", f"b  {w['bias']}", layer.b))
                doc.append(("row", f"z = xW + b  {w['weighted_sum']}" if layer.b is not None
                            else f"z = xW  {w['weighted_sum']}", layer.z))
                doc.append(("row", f"a = {layer.activation}(z)  {w['activation']}", layer.output))
            else:
                if layer.z is not None:
                    doc.append(("row", "z", layer.z))
                doc.append(("row", f"a  {w['output']}", layer.output))
        doc.append(("layer", f"{w['loss_function']}: {self.loss_name}"))
        doc.append(("row", f"L  {w['loss']}", np.float64(self.loss if not self.regularization else self.data_loss)))
        if self.regularization:
            doc.append(("row", f"+ {w['regularization']}", np.float64(self.regularization)))
            doc.append(("row", f"L  {w['loss']}", np.float64(self.loss)))

        # backward
        doc.append(("section", w["backward"]))
        doc.append(("text", w["delta_note"]))
        last = self.layers[-1] if self.layers else None
        for layer in reversed(self.layers):
            doc.append(("layer", self._heading(layer, w)))
            if not layer.backward_ran:
                doc.append(("text", w["not_trained"]))
                continue
            if layer.fused:
                act = layer.activation or "softmax"
                doc.append(("text", w["fused"].format(act=act)))
                rule = "dL/dz = (a - t) / n" if act == "softmax" else "dL/dz = (a - t) / (n*k)"
                doc.append(("row", f"{rule}  {w['grad_z']}", layer.grad_z))
            else:
                if layer is last:
                    rule = _DA_RULES.get(self.loss_name, "dL/da")
                    doc.append(("row", f"{rule}  {w['grad_a_loss']}", layer.grad_output))
                else:
                    doc.append(("row", f"dL/da {w['grad_a_next']}", layer.grad_output))
                if layer.grad_z is not None:
                    rule = _DZ_RULES.get(layer.activation, f"dL/dz = dL/da * {layer.activation}'(z)")
                    doc.append(("row", f"{rule}  {w['grad_z']}", layer.grad_z))
            if deltas and layer.grad_z is not None:
                doc.append(("row", f"delta = -dL/dz  {w['delta']}", layer.delta))
            if "W" in layer.grads:
                doc.append(("row", f"dL/dW = x^T dL/dz  {w['grad_W']}", layer.dW))
            if "b" in layer.grads:
                doc.append(("row", f"dL/db = sum(dL/dz)  {w['grad_b']}", layer.db))
            for key in layer.grads:
                if key not in ("W", "b"):
                    doc.append(("row", f"dL/d{key}  {w['gradient']}", layer.grads[key]))
            if layer.grad_input is not None:
                rule = "dL/dx = dL/dz W^T" if layer.kind == "Dense" else "dL/dx"
                doc.append(("row", f"{rule}  {w['grad_x']}", layer.grad_input))

        # update
        doc.append(("section", w["update"] if self.applied else w["update_skipped"]))
        doc.append(("text", self._optimizer_line(w)))
        for layer in self.layers:
            if not layer.weights:
                continue
            doc.append(("layer", self._heading(layer, w)))
            if not layer.trainable:
                doc.append(("text", w["frozen"]))
                continue
            for key in layer.weights:
                if key not in layer.weights_after:
                    continue
                doc.append(("row", f"{key}  {w['after']}", layer.weights_after[key]))
                doc.append(("row", f"{key}  {w['change']}", layer.weights_after[key] - layer.weights[key]))
        return doc

    def _optimizer_line(self, w):
        lr = "?" if self.learning_rate is None else _number(self.learning_rate, None)
        head = f"{self.optimizer_name}, {w['learning_rate']} {lr}"
        rule = w["rule_sgd"] if self.plain_sgd else w["rule_other"].format(name=self.optimizer_name)
        return f"{head}; {rule}"


# ----------------------------------------------------------------------------
# Recording a step
# ----------------------------------------------------------------------------

def _copy(a):
    return None if a is None else np.array(a, copy=True)


def _dense_like(layer):
    return hasattr(layer, "_act") and hasattr(layer, "backward_logits") and "W" in layer.params


def trace(model, x, y, update=True, lang="en", precision=4, max_items=40) -> Trace:
    """Run one training step of a compiled Sequential `model` on (x, y) and record every number.

    The step is the model's own: its layers' forward and backward passes, its loss and its
    optimizer, on its own weights.  With update=True (default) the weights change exactly as
    `model.train_on_batch(x, y)` would change them; with update=False they (and the optimizer's
    state and BatchNormalization's moving statistics) are left as they were, and the update
    the optimizer would make is computed on copies.
    `lang` ("en" or "ko"), `precision` (significant digits, None for all) and `max_items` set how
    `str(trace)` prints.
    """
    _words(lang)                                   # an unknown language fails before any computation
    tr = Trace()
    tr.lang, tr.max_items = lang, max_items
    tr.precision = tr._precision(precision)
    if not getattr(model, "compiled", False):
        raise ValueError("trace needs a compiled model: call model.compile(optimizer=..., loss=...) first")
    x, y = model._check_xy(x, y)                    # validates, builds and prepares, as train_on_batch does
    layers = model.layers
    first = model._first_trainable
    saved_state = None if update else [{k: v.copy() for k, v in l.state.items()} for l in layers]
    saved_rngs = [] if update else [(l.rng, l.rng.bit_generator.state) for l in layers
                                    if isinstance(getattr(l, "rng", None), np.random.Generator)]

    # who is who
    weighted = [i for i, l in enumerate(layers) if l.params]
    hidden_number = {i: k + 1 for k, i in enumerate(weighted[:-1])} if weighted else {}
    records = []
    for i, layer in enumerate(layers):
        role = "output" if weighted and i == weighted[-1] else \
            f"hidden {hidden_number[i]}" if i in hidden_number else "other"
        units = getattr(layer, "units", None)
        activation = getattr(layer, "activation", None)
        rec = LayerTrace(layer.name, type(layer).__name__, role, activation if isinstance(activation, str) else None,
                         units)
        rec.weights = {k: v.copy() for k, v in layer.params.items()}
        rec.trainable = layer.trainable
        records.append(rec)

    tr.x, tr.y = x.copy(), np.array(y, copy=True)
    tr.model_name = model.name
    widths = [str(int(np.prod(model._input_feature_shape)))] + \
             [str(l.units) for l in layers if getattr(l, "units", None) is not None]
    tr.architecture = "-".join(widths)
    tr.dtype = str(model.dtype)
    tr.loss_name = model.loss.name
    opt = model.optimizer
    tr.optimizer_name = type(opt).__name__
    tr.optimizer_config = opt.get_config() if hasattr(opt, "get_config") else {}
    tr.learning_rate = float(opt.learning_rate)
    tr.plain_sgd = type(opt).__name__ == "SGD" and not getattr(opt, "momentum", 0) and \
        opt.clipnorm is None and opt.clipvalue is None and opt.global_clipnorm is None
    tr.applied = bool(update)

    # forward: the model's _forward_loss, one layer at a time
    h = x
    for layer, rec in zip(layers[:-1], records[:-1]):
        rec.input = _copy(h)
        h = layer.forward(h, training=True)
        rec.output = _copy(h)
        if rec.kind == "Dense" or _dense_like(layer):
            rec.z = _copy(layer._z)
    last, rec = layers[-1], records[-1]
    rec.input = _copy(h)
    dz = None
    if model._logits_loss:
        z = last.forward_logits(h, True) if model._fused else last.forward(h, True)
        loss, dz, out = model.loss.logits_forward_backward(y, z)
        rec.fused = model._fused
        if model._fused:
            rec.z = _copy(z)
        elif _dense_like(last):
            rec.z = _copy(last._z)
        rec.output = _copy(out if model._fused else z)
    else:
        out = last.forward(h, training=True)
        loss = float(np.mean(model.loss.per_sample(y, out)))
        rec.output = _copy(out)
        if _dense_like(last):
            rec.z = _copy(last._z)
    tr.data_loss = float(loss)
    tr.regularization = float(model._regularization_loss()) if model._regularized else 0.0
    tr.loss = tr.data_loss + tr.regularization

    # backward: the model's _backward, recording dL/da and dL/dz on the way
    if dz is not None and model._fused:
        d = last.backward_logits(dz)
        rec.grad_z = _copy(dz)
    else:
        grad = dz if dz is not None else model.loss.gradient(y, out)
        d = _backward(last, rec, grad)
    rec.grad_input = _copy(d)
    rec.backward_ran = True
    rec.grads = {k: last.grads[k].copy() for k in last.params}
    for layer, rec in zip(reversed(layers[first:-1]), reversed(records[first:-1])):
        d = _backward(layer, rec, d)
        rec.grad_input = _copy(d)
        rec.backward_ran = True
        rec.grads = {k: layer.grads[k].copy() for k in layer.params}

    # update: the model's optimizer call (on copies when update=False)
    _update(model, records, apply=update)
    if saved_state is not None:                     # update=False: leave the model exactly as it was
        for layer, state in zip(layers, saved_state):
            for k, v in state.items():
                layer.state[k][...] = v
        for rng, state in saved_rngs:
            rng.bit_generator.state = state
    tr.layers = records
    return tr


def _backward(layer, rec, grad):
    """layer.backward(grad), recording dL/da and (for Dense) dL/dz by the layer's own activation rule."""
    rec.grad_output = _copy(grad)
    if _dense_like(layer) and getattr(layer, "_lead", None) is None and layer._z is not None:
        y = layer._z if layer.activation == "linear" else layer._y
        rec.grad_z = _copy(layer._act.backward(layer._z, y, np.asarray(grad)))
    return layer.backward(grad)


def _update(model, records, apply):
    opt = model.optimizer
    entries = model._trainable_entries
    per_variable = opt.clipnorm is not None
    if apply:
        if per_variable:
            opt.apply([l.grads[k] for l, k in entries], model.trainable_weights)
        else:
            opt.apply([model._flat_grads], [model._flat_weights])
        after = {(id(l), k): l.params[k].copy() for l, k in entries}
    else:
        shadow = copy.deepcopy(opt)                  # its own copy of the state (momentum, Adam's moments)
        if per_variable:
            weights = [l.params[k].copy() for l, k in entries]
            shadow.apply([l.grads[k].copy() for l, k in entries], weights)
            after = {(id(l), k): w for (l, k), w in zip(entries, weights)}
        else:
            flat = model._flat_weights.copy()
            shadow.apply([model._flat_grads.copy()], [flat])
            after, offset = {}, 0
            for l, k in entries:
                size = l.params[k].size
                after[(id(l), k)] = flat[offset:offset + size].reshape(l.params[k].shape).copy()
                offset += size
    for layer, rec in zip(model.layers, records):
        rec.weights_after = {k: after.get((id(layer), k), layer.params[k].copy()) for k in layer.params}


# ----------------------------------------------------------------------------
# Formatting
# ----------------------------------------------------------------------------

def _number(v, precision) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if v == 0:
        return "0"
    if precision is None:
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    text = f"{v:.{precision}g}"
    return text


def _summary(a, precision, lang="en"):
    f = np.asarray(a, dtype=np.float64)
    p = precision or 6
    return _WORDS.get(lang, _WORDS["en"])["summary"].format(
        min=_number(f.min(), p), max=_number(f.max(), p), mean=_number(f.mean(), p))


def _shape(a) -> str:
    if a is None:
        return ""
    a = np.asarray(a)
    if a.ndim == 0:
        return ""
    return "(" + ", ".join(str(d) for d in a.shape) + ("," if a.ndim == 1 else "") + ")"


def _array_lines(a, precision, max_items, lang="en") -> list[str]:
    """Small arrays in full (a matrix one row per line, columns aligned); large ones as a summary."""
    if a is None:
        return ["-"]
    a = np.asarray(a)
    if a.ndim == 0:
        return [_number(a.item(), precision)]
    if a.size > max_items:
        return [_summary(a, precision, lang)]
    if a.size == 0:
        return ["[]"]
    m = a.reshape(1, -1) if a.ndim == 1 else a.reshape(-1, a.shape[-1])
    cells = [[_number(v, precision) for v in row] for row in m]
    width = max(len(c) for row in cells for c in row)
    rows = ["  ".join(c.rjust(width) for c in row) for row in cells]
    if a.ndim == 1:                              # long vectors: wrapped at about 90 characters
        per_line = max(1, min(10, 90 // (width + 2)))
        parts = ["  ".join(c.rjust(width) for c in cells[0][i:i + per_line])
                 for i in range(0, len(cells[0]), per_line)]
        return [("[" if i == 0 else " ") + part + ("]" if i == len(parts) - 1 else "") for i, part in enumerate(parts)]
    lines = []
    for i, row in enumerate(rows):
        open_ = "[[" if i == 0 else " ["
        close = "]]" if i == len(rows) - 1 else "]"
        lines.append(open_ + row + close)
    return lines


def _array_inline(a, precision, max_items, lang="en") -> str:
    if a is None:
        return "-"
    a = np.asarray(a)
    if a.ndim == 0:
        return _number(a.item(), precision)
    if a.size > max_items:
        return _summary(a, precision, lang)

    def nest(b):
        if b.ndim == 1:
            return "[" + ", ".join(_number(v, precision) for v in b) + "]"
        return "[" + ", ".join(nest(r) for r in b) + "]"
    return nest(a)


def _width(text) -> int:
    """Columns a string takes in a terminal (Korean characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text, width):
    return text + " " * max(0, width - _width(text))


def _render_text(items, precision, max_items, lang) -> str:
    rows = [it for it in items if it[0] == "row"]
    qwidth = min(max([_width(r[1]) for r in rows] + [10]), 48)
    swidth = max([len(_shape(r[2])) for r in rows] + [5])
    out = []
    for item in items:
        kind = item[0]
        if kind == "title":
            out += [item[1], "=" * _width(item[1])]
        elif kind == "section":
            out += ["", item[1], "-" * _width(item[1])]
        elif kind == "layer":
            out.append(item[1])
        elif kind == "text":
            out += textwrap.wrap(item[1], width=100 if lang == "en" else 70, initial_indent="  ", subsequent_indent="  ",
                                 break_on_hyphens=False) or [""]
        elif kind == "row":
            label, value = item[1], item[2]
            lines = _array_lines(value, precision, max_items, lang)
            head = "    " + _pad(label, qwidth) + "  " + _shape(value).ljust(swidth) + "  "
            if _width(label) > qwidth:          # a long label gets a line of its own
                out.append("    " + label)
                head = "    " + " " * qwidth + "  " + _shape(value).ljust(swidth) + "  "
            out.append(head + lines[0])
            indent = " " * _width(head)
            out += [indent + line for line in lines[1:]]
    return "\n".join(line.rstrip() for line in out)


def _render_markdown(items, precision, max_items, lang) -> str:
    w = _WORDS[lang]
    out = []
    in_table = False
    for item in items:
        kind = item[0]
        if kind != "row" and in_table:
            out.append("")
            in_table = False
        if kind == "title":
            out += [f"### {item[1]}", ""]
        elif kind == "section":
            out += [f"#### {item[1]}", ""]
        elif kind == "layer":
            out += [f"**{item[1]}**", ""]
        elif kind == "text":
            out += [item[1].replace("*", "\\*"), ""]
        elif kind == "row":
            if not in_table:
                out += [f"| {w['quantity']} | {w['shape']} | {w['values']} |", "| --- | --- | --- |"]
                in_table = True
            label = item[1].replace("|", "\\|").replace("*", "\\*")
            value = _array_inline(item[2], precision, max_items, lang).replace("|", "\\|")
            out.append(f"| {label} | {_shape(item[2])} | `{value}` |")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------
# The study notes' worked example
# ----------------------------------------------------------------------------

def backprop_example(learning_rate=0.5):
    """Study note 002's worked network, compiled: (model, x, y).

    initialize_network(2, 1, 2) after random.seed(1): a hidden layer of one sigmoid neuron
    (weights 0.134..., 0.847..., bias 0.763...) and an output layer of two sigmoid neurons;
    input row [1, 0], target [0, 1].  The weights are drawn exactly as the note draws them
    (Python's random, seed 1, each neuron [w_1, ..., w_n, bias]) without touching the global
    random state.  Loss: 'mse', which for one sample and two outputs is the note's
    0.5 * sum((output - target)^2).  float64, SGD with `learning_rate`.
    """
    from . import layers as layers_module
    from . import optimizers
    from .models import Sequential

    rng = random.Random(1)

    def neurons(n_inputs, n_neurons):
        drawn = np.array([[rng.random() for _ in range(n_inputs + 1)] for _ in range(n_neurons)])
        return drawn[:, :-1].T.copy(), drawn[:, -1].copy()      # W (in, out), b (out,)

    W1, b1 = neurons(2, 1)
    W2, b2 = neurons(1, 2)
    model = Sequential([
        layers_module.Dense(1, activation="sigmoid", input_shape=(2,), dtype="float64", name="hidden"),
        layers_module.Dense(2, activation="sigmoid", dtype="float64", name="output"),
    ], name="note_002")
    model.set_weights([W1, b1, W2, b2])
    model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="mse")
    x = np.array([[1.0, 0.0]])
    y = np.array([[0.0, 1.0]])
    return model, x, y


#: what note 002 prints for the worked network (its In [4] and In [6])
NOTE_002 = {
    "hidden_output": [0.7105668883115941],
    "outputs": [0.6629970129852887, 0.7253160725279748],
    "hidden_delta": [-0.002711797799238243],
    "output_deltas": [-0.14813473120687762, 0.05472601157879688],
}


def explain_example(name="backprop-2-1-2", lang="en", markdown=False, precision=None, learning_rate=0.5,
                    update=True):
    """The printout of `glassnet explain --example NAME`: an introduction, the trace (with the notes'
    deltas), and a check of the numbers against the ones the note prints."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; known examples: {', '.join(EXAMPLES)}")
    w = _words(lang)
    model, x, y = backprop_example(learning_rate)
    tr = trace(model, x, y, update=update, lang=lang, precision=precision)
    hidden, output = tr.layers
    ours = [hidden.output[0], output.output[0], hidden.delta[0], output.delta[0]]
    theirs = [NOTE_002[k] for k in ("hidden_output", "outputs", "hidden_delta", "output_deltas")]
    check = []
    for label, mine, note in zip(w["example_rows"], ours, theirs):
        mine_text = ", ".join(_number(v, None) for v in mine)
        note_text = ", ".join(_number(v, None) for v in note)
        same = "==" if mine_text == note_text else "!="
        check.append((label, mine_text, same, note_text))
    if markdown:
        lines = [f"## {w['example_title']}", "", " ".join(w["example_intro"]), "",
                 tr.to_markdown(lang=lang, precision=precision, deltas=True), f"#### {w['example_check']}", "",
                 f"| | glassnet | | {w['example_printed']} |", "| --- | --- | --- | --- |"]
        lines += [f"| {a} | `{b}` | {c} | `{d}` |" for a, b, c, d in check]
        return "\n".join(lines) + "\n"
    lines = [w["example_title"], "=" * _width(w["example_title"])] + w["example_intro"] + [""]
    lines.append(tr.to_text(lang=lang, precision=precision, deltas=True))
    lines += ["", w["example_check"], "-" * _width(w["example_check"])]
    label_width = max(_width(c[0]) for c in check)
    value_width = max(len(c[1]) for c in check)
    for a, b, c, d in check:
        lines.append(f"  {_pad(a, label_width)}  glassnet {b.ljust(value_width)}  {c}  {w['example_printed']} {d}")
    return "\n".join(lines)
