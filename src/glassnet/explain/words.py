"""The words of a trace, in English and Korean (the study notes' terms), and the rules it prints."""
from __future__ import annotations

LANGS = ("en", "ko")

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
