/* glassnet playground: the page's words in English and Korean, and the switch between them.
 *
 * Every word the page shows comes from GN.I18N[lang][key] (GN.t): the headings, buttons, control labels,
 * the settings' names, choices and help texts, the legends, the plots' labels and the status line.  The
 * Korean words are those of the study notes and of docs/glossary.md (시그모이드, 계단 함수, 교차 엔트로피,
 * 학습률, 에폭, ...), so the page and the notes speak alike.  Both tables have the same keys (the browser
 * tests check it, and that none is empty); "{name}" in a text is filled in by GN.t's arguments.
 *
 * What comes from the server keeps the server's language: the numbers panel asks for lang=ko and gets
 * Korean; the doctor's findings and the server's error messages are English (the page says so).
 * The table between the two markers is strict JSON, so that a test can read it without a browser.
 */
"use strict";

var GN = window.GN || {};
window.GN = GN;

GN.I18N = /* table begin */ {
"en": {
  "page_title": "glassnet playground", "heading": "glassnet playground", "language": "language",
  "reset": "reset", "reset_title": "Start again from the first weights (the same seed)",
  "play": "play", "play_title": "Train continuously",
  "pause": "pause", "pause_title": "Stop after the current request",
  "step": "step", "step_title": "Train on one batch",
  "counter_step": "step", "counter_pass": "pass", "train_loss": "train loss", "test_loss": "test loss",
  "speed": "{n} steps/s", "speed_title": "steps per second while playing",
  "export": "export code", "export_title": "The Python script that reproduces this network and its training",
  "save": "save model", "save_title": "Download the trained model as a .glassnet file",
  "close": "close", "settings": "settings", "loading": "loading the settings\u2026",
  "network_area": "the network", "network_heading": "The network",
  "network_hint": "click a neuron or an edge to see its numbers", "network_diagram": "network diagram",
  "legend_positive": "positive weight", "legend_negative": "negative weight \u2014 thicker = larger |w|",
  "numbers_area": "numbers of the last step", "sample": "sample in the batch",
  "no_step": "No step yet: press \"step\" (or \"play\") and the numbers of the last step appear here.",
  "note_neuron": "layer {layer}, unit {unit}", "note_edge": "layer {layer}, edge {source} \u2192 {target}",
  "output_area": "output", "boundary_heading": "Data and decision boundary",
  "boundary_area": "data and decision boundary",
  "legend_points": "filled dots: training data \u00b7 rings: test data",
  "legend_classification": "the colour: P(class 1) (orange 0, white 0.5, blue 1); filled dots: training data, rings: test data",
  "legend_regression": "the surface: the network's output (orange negative, blue positive); filled dots: training data, rings: test data",
  "loss_heading": "Loss", "loss_area": "train and test loss curves", "legend_train": "train", "legend_test": "test",
  "loss_empty": "the losses appear after the first step", "loss_step": "step {n}",
  "doctor_heading": "The doctor", "doctor_note": "The doctor's findings are in English.",
  "no_findings": "no findings yet", "healthy": "nothing to report: training looks healthy so far",
  "export_before": "A plain glassnet script: run it with",
  "export_after": ". It trains the same network on the same batches for the steps done so far and gives the same weights as this page.",
  "download": "download playground.py", "copy": "copy",
  "column_features": "features", "column_output": "output", "column_hidden": "hidden {i}",
  "feature_title": "feature {name}: click for its value",
  "neuron_title": "{layer}, unit {unit}: click for its numbers",
  "edge_title": "w = {w} (from unit {source} to unit {target}): click for its numbers",
  "unreachable": "the server cannot be reached ({error}): is `glassnet playground` still running?",
  "answered": "the server answered {status} {text}", "server_says": "{message}",
  "hidden_placeholder": "e.g. 4,2 (empty: no hidden layer)",
  "group.data": "Data", "group.features": "Features", "group.network": "Network", "group.training": "Training",
  "group.other": "Other",
  "label.dataset": "data set", "label.noise": "noise", "label.n_samples": "samples",
  "label.train_fraction": "share for training", "label.seed": "seed", "label.features": "input features",
  "label.hidden": "hidden layers (units, comma-separated)", "label.activation": "activation",
  "label.initializer": "initializer", "label.loss": "loss", "label.optimizer": "optimizer",
  "label.learning_rate": "learning rate", "label.batch_size": "batch size", "label.regularization": "regularization",
  "label.regularization_rate": "regularization rate",
  "help.dataset": "the data set; plane is a regression (the network learns a number)",
  "help.noise": "standard deviation of the Gaussian noise added to the points, in the frame's units (the frame is [-6, 6]; plane: noise / 6 on the target)",
  "help.n_samples": "how many points, train and test together",
  "help.train_fraction": "the share of the points used for training; the rest test it",
  "help.features": "the input features computed from each point (x, y)",
  "help.hidden": "the hidden layers: units per layer (none for a single-layer network)",
  "help.activation": "the hidden layers' activation function",
  "help.loss": "the loss function (plane: mean_squared_error or mean_absolute_error)",
  "help.optimizer": "how the weights are updated (momentum: SGD with momentum 0.9)",
  "help.learning_rate": "the step size of each update",
  "help.batch_size": "samples per training step",
  "help.initializer": "how the weights start (random_normal: stddev 0.01, the notes' weight_init_std; zeros: every unit alike)",
  "help.regularization": "a penalty on the weights' size (l1: rate * sum|W|, l2: rate * sum W^2)",
  "help.regularization_rate": "the penalty's factor",
  "help.seed": "the random seed: the data, the first weights and the batch order",
  "choice.dataset.circles": "circles", "choice.dataset.moons": "moons", "choice.dataset.xor": "xor",
  "choice.dataset.spirals": "spirals", "choice.dataset.gaussians": "gaussians", "choice.dataset.plane": "plane",
  "choice.activation.step": "step", "choice.activation.linear": "linear", "choice.activation.sigmoid": "sigmoid",
  "choice.activation.tanh": "tanh", "choice.activation.relu": "relu", "choice.activation.leaky_relu": "leaky relu",
  "choice.activation.elu": "elu", "choice.activation.swish": "swish", "choice.activation.softmax": "softmax",
  "choice.loss.binary_crossentropy": "binary crossentropy",
  "choice.loss.sparse_categorical_crossentropy": "sparse categorical crossentropy",
  "choice.loss.mean_squared_error": "mean squared error", "choice.loss.mean_absolute_error": "mean absolute error",
  "choice.optimizer.sgd": "sgd", "choice.optimizer.momentum": "momentum", "choice.optimizer.rmsprop": "rmsprop",
  "choice.optimizer.adagrad": "adagrad", "choice.optimizer.adam": "adam",
  "choice.initializer.glorot_uniform": "glorot uniform", "choice.initializer.glorot_normal": "glorot normal",
  "choice.initializer.he_normal": "he normal", "choice.initializer.he_uniform": "he uniform",
  "choice.initializer.random_normal": "random normal", "choice.initializer.zeros": "zeros",
  "choice.regularization.none": "none", "choice.regularization.l1": "l1", "choice.regularization.l2": "l2",
  "feature.x": "x", "feature.y": "y", "feature.x2": "x\u00b2", "feature.y2": "y\u00b2", "feature.xy": "xy",
  "feature.sinx": "sin x", "feature.siny": "sin y"
},
"ko": {
  "page_title": "glassnet 플레이그라운드", "heading": "glassnet 플레이그라운드", "language": "언어",
  "reset": "처음부터", "reset_title": "첫 가중치에서 다시 시작합니다 (같은 시드)",
  "play": "재생", "play_title": "쉬지 않고 학습합니다",
  "pause": "일시 정지", "pause_title": "지금 하는 요청이 끝나면 멈춥니다",
  "step": "한 단계", "step_title": "미니배치 하나로 한 번 학습합니다",
  "counter_step": "단계", "counter_pass": "에폭", "train_loss": "훈련 손실", "test_loss": "시험 손실",
  "speed": "초당 {n} 단계", "speed_title": "재생하는 동안 1초에 학습하는 단계 수",
  "export": "코드 내보내기", "export_title": "이 신경망과 그 학습을 그대로 다시 하는 Python 스크립트",
  "save": "모델 저장", "save_title": "학습한 모델을 .glassnet 파일로 내려받습니다",
  "close": "닫기", "settings": "설정", "loading": "설정을 불러오는 중\u2026",
  "network_area": "신경망", "network_heading": "신경망",
  "network_hint": "뉴런이나 선(가중치)을 클릭하면 그 숫자가 나옵니다", "network_diagram": "신경망 그림",
  "legend_positive": "양수 가중치", "legend_negative": "음수 가중치 \u2014 굵을수록 |w|가 큽니다",
  "numbers_area": "마지막 학습 단계의 숫자", "sample": "배치 안의 샘플 번호",
  "no_step": "아직 학습 단계가 없습니다: \"한 단계\"나 \"재생\"을 누르면 마지막 단계의 숫자가 여기에 나옵니다.",
  "note_neuron": "층 {layer}, 뉴런 {unit}", "note_edge": "층 {layer}, 가중치 {source} \u2192 {target}",
  "output_area": "출력", "boundary_heading": "데이터와 결정 경계",
  "boundary_area": "데이터와 결정 경계",
  "legend_points": "채운 점: 훈련 데이터 \u00b7 고리: 시험 데이터",
  "legend_classification": "색: 클래스 1일 확률 P(클래스 1) (주황 0, 흰색 0.5, 파랑 1); 채운 점: 훈련 데이터, 고리: 시험 데이터",
  "legend_regression": "면: 신경망의 출력 (주황 음수, 파랑 양수); 채운 점: 훈련 데이터, 고리: 시험 데이터",
  "loss_heading": "손실", "loss_area": "훈련 손실과 시험 손실의 학습 곡선", "legend_train": "훈련", "legend_test": "시험",
  "loss_empty": "첫 학습 단계가 지나면 손실이 나타납니다", "loss_step": "단계 {n}",
  "doctor_heading": "진단 (doctor)", "doctor_note": "진단 메시지는 영어로 나옵니다.",
  "no_findings": "아직 진단 결과가 없습니다", "healthy": "알릴 것이 없습니다: 지금까지는 학습이 건강해 보입니다",
  "export_before": "평범한 glassnet 스크립트입니다:",
  "export_after": "로 실행하세요. 같은 신경망을 같은 배치로 지금까지의 단계만큼 학습하고, 이 페이지와 같은 가중치를 얻습니다.",
  "download": "playground.py 내려받기", "copy": "복사",
  "column_features": "입력 특성", "column_output": "출력층", "column_hidden": "은닉층 {i}",
  "feature_title": "입력 특성 {name}: 클릭하면 그 값이 나옵니다",
  "neuron_title": "{layer}, 뉴런 {unit}: 클릭하면 그 숫자가 나옵니다",
  "edge_title": "w = {w} (뉴런 {source} \u2192 뉴런 {target}): 클릭하면 그 숫자가 나옵니다",
  "unreachable": "서버에 연결할 수 없습니다 ({error}): `glassnet playground`가 아직 실행 중인가요?",
  "answered": "서버의 응답: {status} {text}", "server_says": "서버의 메시지 (영어로 나옵니다): {message}",
  "hidden_placeholder": "예: 4,2 (비우면 은닉층 없음)",
  "group.data": "데이터", "group.features": "입력 특성", "group.network": "신경망", "group.training": "학습",
  "group.other": "기타",
  "label.dataset": "데이터 집합", "label.noise": "잡음", "label.n_samples": "샘플 수",
  "label.train_fraction": "훈련 데이터의 비율", "label.seed": "난수 시드", "label.features": "입력 특성",
  "label.hidden": "은닉층 (층마다 뉴런 수, 쉼표로 구분)", "label.activation": "활성화 함수",
  "label.initializer": "가중치 초기화", "label.loss": "손실 함수", "label.optimizer": "옵티마이저",
  "label.learning_rate": "학습률", "label.batch_size": "배치 크기", "label.regularization": "규제",
  "label.regularization_rate": "규제 강도",
  "help.dataset": "데이터 집합; plane(평면)은 회귀 문제입니다 (신경망이 숫자 하나를 배웁니다)",
  "help.noise": "점에 더하는 가우시안 잡음의 표준편차, 그림 좌표의 단위 (그림은 [-6, 6]; plane은 정답에 noise / 6)",
  "help.n_samples": "점의 개수 (훈련 데이터와 시험 데이터를 합쳐서)",
  "help.train_fraction": "훈련에 쓰는 점의 비율; 나머지로 시험합니다",
  "help.features": "각 점 (x, y)에서 계산하는 입력 특성",
  "help.hidden": "은닉층: 층마다 뉴런 수 (비우면 은닉층이 없는 단층 신경망)",
  "help.activation": "은닉층의 활성화 함수",
  "help.loss": "손실 함수 (plane은 평균 제곱 오차나 평균 절대 오차)",
  "help.optimizer": "가중치를 갱신하는 규칙 (모멘텀: 모멘텀 0.9의 확률적 경사하강법)",
  "help.learning_rate": "한 번 갱신할 때 가중치를 옮기는 크기",
  "help.batch_size": "한 학습 단계에 쓰는 샘플 수 (미니배치의 크기)",
  "help.initializer": "가중치의 첫 값을 정하는 방법 (random_normal: 표준편차 0.01, 노트의 weight_init_std; zeros: 모든 뉴런이 똑같아집니다)",
  "help.regularization": "가중치의 크기에 주는 벌점 (l1: rate * sum|W|, l2: rate * sum W^2)",
  "help.regularization_rate": "벌점에 곱하는 계수",
  "help.seed": "난수 시드: 데이터, 첫 가중치, 배치 순서를 정합니다",
  "choice.dataset.circles": "동심원 (circles)", "choice.dataset.moons": "반달 (moons)", "choice.dataset.xor": "XOR",
  "choice.dataset.spirals": "나선 (spirals)", "choice.dataset.gaussians": "가우시안 두 덩어리 (gaussians)",
  "choice.dataset.plane": "평면 (plane, 회귀)",
  "choice.activation.step": "계단 함수", "choice.activation.linear": "선형 함수 (항등 함수)",
  "choice.activation.sigmoid": "시그모이드", "choice.activation.tanh": "하이퍼볼릭 탄젠트 (tanh)",
  "choice.activation.relu": "렐루 (ReLU)", "choice.activation.leaky_relu": "리키 렐루 (Leaky ReLU)",
  "choice.activation.elu": "엘루 (ELU)", "choice.activation.swish": "스위시 (Swish)",
  "choice.activation.softmax": "소프트맥스",
  "choice.loss.binary_crossentropy": "이진 교차 엔트로피",
  "choice.loss.sparse_categorical_crossentropy": "희소 범주형 교차 엔트로피",
  "choice.loss.mean_squared_error": "평균 제곱 오차", "choice.loss.mean_absolute_error": "평균 절대 오차",
  "choice.optimizer.sgd": "확률적 경사하강법 (SGD)", "choice.optimizer.momentum": "모멘텀",
  "choice.optimizer.rmsprop": "RMSprop", "choice.optimizer.adagrad": "Adagrad", "choice.optimizer.adam": "아담 (Adam)",
  "choice.initializer.glorot_uniform": "글로럿 균등분포", "choice.initializer.glorot_normal": "글로럿 정규분포",
  "choice.initializer.he_normal": "He 정규분포", "choice.initializer.he_uniform": "He 균등분포",
  "choice.initializer.random_normal": "정규분포 (표준편차 0.01)", "choice.initializer.zeros": "모두 0",
  "choice.regularization.none": "없음", "choice.regularization.l1": "L1 규제", "choice.regularization.l2": "L2 규제",
  "feature.x": "x", "feature.y": "y", "feature.x2": "x\u00b2", "feature.y2": "y\u00b2", "feature.xy": "xy",
  "feature.sinx": "sin x", "feature.siny": "sin y"
}
} /* table end */;

GN.LANGS = ["en", "ko"];
GN.lang = "en";

/* The text of `key` in the page's language ({name} filled from args); English if the key is missing there,
 * `fallback` (or the key itself) if it is missing in both. */
GN.t = function (key, args, fallback) {
  var table = GN.I18N[GN.lang] || GN.I18N.en, text = table[key];
  if (text === undefined) { text = GN.I18N.en[key]; }
  if (text === undefined) { return fallback !== undefined ? fallback : key; }
  return text.replace(/\{(\w+)\}/g, function (whole, name) {
    return args && args[name] !== undefined ? String(args[name]) : whole;
  });
};

GN.hasText = function (key) { return GN.I18N.en[key] !== undefined; };

/* The language a page opens in when its address does not say: Korean for a Korean browser, else English. */
GN.browserLang = function () {
  var language = (navigator.language || "").toLowerCase();
  return language.indexOf("ko") === 0 ? "ko" : "en";
};

/* The URL hash without its lang=... part (that part is the page's own, never sent to the server as a
 * setting), and the language it names (null when it names none, or one the page does not know). */
GN.splitHash = function (hash) {
  var lang = null, rest = [];
  String(hash || "").replace(/^#/, "").split("&").forEach(function (part) {
    if (!part) { return; }
    if (part.indexOf("lang=") === 0) {
      var value = decodeURIComponent(part.slice(5));
      lang = GN.LANGS.indexOf(value) >= 0 ? value : lang;
    } else {
      rest.push(part);
    }
  });
  return {query: rest.join("&"), lang: lang};
};

/* The hash for settings (in query form) and a language: lang=ko is written whenever the page speaks Korean
 * (a shared link opens in Korean), lang=en only where the browser alone would have chosen Korean. */
GN.joinHash = function (query, lang) {
  var parts = query ? [query] : [];
  if (lang !== GN.browserLang() || lang === "ko") { parts.push("lang=" + lang); }
  return "#" + parts.join("&");
};

/* Put the page's language into every element that carries a key: data-i18n (its text), data-i18n-title,
 * data-i18n-label (aria-label) and data-i18n-placeholder.  A key the table lacks leaves the element as it is. */
GN.translate = function (root) {
  var kinds = [["data-i18n", null], ["data-i18n-title", "title"], ["data-i18n-label", "aria-label"],
               ["data-i18n-placeholder", "placeholder"]];
  kinds.forEach(function (kind) {
    Array.prototype.forEach.call(root.querySelectorAll("[" + kind[0] + "]"), function (element) {
      var key = element.getAttribute(kind[0]);
      if (!GN.hasText(key)) { return; }
      if (kind[1]) { element.setAttribute(kind[1], GN.t(key)); } else { element.textContent = GN.t(key); }
    });
  });
};
