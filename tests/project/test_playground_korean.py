"""The playground page's two languages (static/i18n.js), and its numbers panel while playing (issue 16).

The page speaks English or Korean: the tests switch it to 한국어 and check that every control's words are
the table's Korean ones, that the language rides in the address as lang=ko but never reaches the server
as a setting, and that a Korean browser opens the page in Korean.  The two tables themselves (same keys,
no empty text, the server's own English help, the glossary's Korean terms) are checked without a browser,
so those checks run everywhere.  With a neuron's panel open while playing, the panel follows every redraw
and ends equal to a trace computed here.

The server, the browser, the reference recipe and the page driver are test_playground_browser.py's (the
same skip rule: the browser tests run in CI's site step, GLASSNET_DOCS_BUILD=1).
"""
import json
import re

from project.test_playground_browser import (ROOT, STATIC, Playground, browser, exactly_among,  # noqa: F401
                                             in_browser, reference, server_url)

# The page's two languages (static/i18n.js), and the numbers panel while playing.

HANGUL = re.compile("[\uac00-\ud7a3]")


def i18n_tables():
    """GN.I18N of static/i18n.js: the strict JSON between its two markers, read here without a browser."""
    text = (STATIC / "i18n.js").read_text(encoding="utf-8")
    return json.loads(re.search(r"/\* table begin \*/(.*?)/\* table end \*/", text, flags=re.S).group(1))


def test_i18n_tables_have_the_same_keys_and_no_empty_text():
    tables = i18n_tables()
    en, ko = tables["en"], tables["ko"]
    assert sorted(tables) == ["en", "ko"] and set(en) == set(ko), sorted(set(en) ^ set(ko))
    for lang, table in tables.items():
        assert [k for k, text in table.items() if not isinstance(text, str) or not text.strip()] == [], lang
        assert [k for k in en if set(re.findall(r"\{(\w+)\}", table[k])) != set(re.findall(r"\{(\w+)\}", en[k]))] == []
    used = set()                                            # every key the page names is in the table
    for path in STATIC.glob("*"):                           # (not a prefix: "label." + name)
        used |= set(re.findall(r'(?:data-i18n(?:-\w+)?="|GN\.t\("|GN\.worded\("\w+", ")([\w.]+)"(?!\s*\+)',
                               path.read_text(encoding="utf-8")))
    assert len(used) > 40 and used <= set(en), sorted(used - set(en))


def test_every_setting_has_its_words_in_both_languages_and_the_notes_terms():
    from glassnet.playground.settings import options
    en, ko = i18n_tables()["en"], i18n_tables()["ko"]
    for option in options():
        name = option["name"]
        prefix = "feature." if option["kind"] == "choices" else f"choice.{name}."
        assert en[f"help.{name}"] == option["help"], (name, "the English help is the server's own")
        assert HANGUL.search(ko[f"help.{name}"]) and HANGUL.search(ko[f"label.{name}"]), name
        assert [c for c in option.get("choices", []) if prefix + c not in ko] == [], name
    terms = set()                                           # the glossary's Korean terms: its tables' first column
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and HANGUL.search(line.split("|")[1]):
            terms.update(re.sub(r"\(.*?\)", "", term).strip() for term in line.split("|")[1].split(","))
    assert {"시그모이드", "계단 함수", "소프트맥스", "렐루", "평균 제곱 오차", "학습률"} <= terms, "glossary misread"
    keys = [k for k in ko if k.startswith(("choice.activation.", "choice.loss.")) and "absolute" not in k]
    keys += ["choice.optimizer.sgd", "choice.optimizer.momentum", "choice.optimizer.adam", "label.activation",
             "label.loss", "label.optimizer", "label.learning_rate", "label.initializer", "label.regularization",
             "label.seed", "counter_pass", "column_output"]
    assert [(k, ko[k]) for k in keys if ko[k].split(" (")[0] not in terms] == []    # the notes' words


# Names the Korean page shows on purpose next to their Korean words (or as they are: XOR, He, sin x, ...).
KEPT_NAMES = {"glassnet", "English", "XOR", "SGD", "Adam", "RMSprop", "Adagrad", "tanh", "ReLU", "Leaky", "ELU",
              "Swish", "He", "sin", "xy", "circles", "moons", "spirals", "gaussians", "plane", "doctor"}
CANVAS_WORDS = """(() => {                   // every text the page writes on a canvas, in window.canvasWords
  window.canvasWords = [];
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    window.canvasWords.push(String(text));
    return fillText.call(this, text, ...rest);
  };
})();"""
VISIBLE_WORDS = """() => {                    // the page's visible text, but the server's numbers and findings
  const skip = [...document.querySelectorAll('#numbers-table, #findings li[data-cause]')];
  skip.forEach(e => { e.hidden = true; });
  const text = document.body.innerText;
  skip.forEach(e => { e.hidden = false; });
  return text;
}"""
KEYED = """() => [...document.querySelectorAll('[data-i18n], [data-i18n-title], [data-i18n-label]')].flatMap(e =>
  [['data-i18n', e.textContent], ['data-i18n-title', e.getAttribute('title')],
   ['data-i18n-label', e.getAttribute('aria-label')]].filter(([a]) => e.hasAttribute(a))
  .map(([a, text]) => [e.getAttribute(a), text]))"""


@in_browser
def test_the_whole_page_in_korean_and_lang_in_the_address(browser, server_url):
    from glassnet.playground.settings import options
    ko = i18n_tables()["ko"]
    tab = Playground(browser, server_url + "#dataset=xor&hidden=3&seed=2", init_script=CANVAS_WORDS)
    page = tab.page
    assert tab.js("glassnet.lang") == "en" and "lang=" not in page.url
    assert tab.js("GN.I18N") == i18n_tables()                 # the page runs the table this test reads
    page.click('#network .neuron[data-layer="1"][data-unit="0"]')
    page.click('#language [data-lang="ko"]')
    page.wait_for_function("document.documentElement.lang === 'ko' && location.hash.endsWith('&lang=ko')")
    assert tab.js("canvasWords").count(ko["loss_empty"]) == 1  # the loss plot, redrawn in Korean
    page.evaluate("canvasWords.length = 0")
    assert tab.texts('label[for="setting-learning_rate"]') == [ko["label.learning_rate"]] == ["학습률"]
    activations = next(o for o in options() if o["name"] == "activation")["choices"]
    shown = tab.texts("#setting-activation option")
    assert shown == [ko[f"choice.activation.{a}"] for a in activations] and "시그모이드" in shown and "계단 함수" in shown
    assert page.input_value("#setting-activation") == "tanh"    # the words changed, not the setting
    labels = tab.texts("label")
    assert len(labels) >= 15 + 7 + 1 and set(labels) <= set(ko.values()), sorted(set(labels) - set(ko.values()))
    keyed = page.evaluate(KEYED)                                # every text, tooltip and aria-label with a key
    assert len(keyed) > 60 and [(key, text) for key, text in keyed if text != ko[key]] == []
    assert tab.texts("#network .column-head") == ["입력 특성", "은닉층 1 (3)", "출력층 (1)"]
    tips = tab.texts("#network .neuron title") + tab.texts("#network .edge title")[:1]
    assert tips[0] == ko["feature_title"].replace("{name}", "x") and tips[2].startswith("은닉층 1, 뉴런 0: ")
    assert re.fullmatch(r"w = \S+ \(뉴런 0 \u2192 뉴런 0\): 클릭하면 그 숫자가 나옵니다", tips[-1]), tips
    tab.step(1)                                                 # the numbers panel asks the server in Korean
    _, text = tab.numbers()
    assert HANGUL.search(text) and "(단계 1)" in text and "단계 1" in tab.js("canvasWords"), text
    tab.play_until("glassnet.stepsPerSecond !== null")          # the status line's speed
    assert not [w for w in tab.js("canvasWords") if re.search("[A-Za-z]{2,}", w)]
    speed = round(tab.js("glassnet.stepsPerSecond"))
    assert page.inner_text("#speed") == ko["speed"].replace("{n}", str(speed)) == f"초당 {speed} 단계"
    words = set(re.findall(r"[A-Za-z]{2,}", page.evaluate(VISIBLE_WORDS)))
    assert words <= KEPT_NAMES, sorted(words - KEPT_NAMES)      # no English word left on the page
    assert page.is_visible("#doctor-note") and page.inner_text("#doctor-note") == "진단 메시지는 영어로 나옵니다."
    assert {body["lang"] for route, body in tab.sent if route == "numbers"} == {"ko"}
    url, settings = page.url, tab.js("glassnet.settings")
    assert "lang" not in settings and url.endswith("&lang=ko")
    tab.close()
    fresh = Playground(browser, url)                            # a shared link opens in Korean
    assert fresh.js("document.documentElement.lang") == "ko" and fresh.js("glassnet.settings") == settings
    assert fresh.texts('label[for="setting-batch_size"]') == [ko["label.batch_size"]]
    assert [body["settings"] for route, body in fresh.sent] == [settings] and fresh.page.is_hidden("#message")
    fresh.page.click('#language [data-lang="en"]')              # and back: English, lang leaves the address
    fresh.page.wait_for_function("document.documentElement.lang === 'en' && !location.hash.includes('lang=')")
    assert fresh.texts('label[for="setting-batch_size"]') == ["batch size"]
    fresh.page.evaluate("location.hash += '&lang=ko'")          # an address edited by hand: the same
    fresh.page.wait_for_function("document.documentElement.lang === 'ko'")
    assert [route for route, _ in fresh.sent] == ["session"]    # a switch of language builds no new network
    fresh.page.evaluate("location.hash = '#dataset=moons&hidden=2'")   # new settings, no lang: the browser's
    fresh.page.wait_for_function("glassnet.settings.dataset === 'moons' && glassnet.lang === 'en'")
    assert fresh.js("glassnet.settings.hidden") == [2] and "dataset=moons" in fresh.page.url
    assert "lang=" not in fresh.page.url and "lang" not in fresh.sent[-1][1]["settings"]
    fresh.page.click('#language [data-lang="ko"]')
    fresh.page.fill("#setting-batch_size", "100000")            # the server's message: English, and said so
    fresh.page.press("#setting-batch_size", "Enter")
    fresh.page.wait_for_selector("#message:not([hidden])")
    message = fresh.page.inner_text("#message-text")
    assert message.startswith("서버의 메시지 (영어로 나옵니다): batch_size: ") and "100000" in message, message
    fresh.close(allowed=("400",))
    korean = Playground(browser, server_url, locale="ko-KR")    # a Korean browser: Korean unless the hash says
    assert korean.js("glassnet.lang") == "ko" and korean.page.url.endswith("&lang=ko")
    korean.close()
    english = Playground(browser, server_url + "#lang=en", locale="ko-KR")
    english.page.wait_for_function("location.hash.includes('seed=')")
    assert english.js("glassnet.lang") == "en" and english.page.url.endswith("&lang=en")
    assert english.js("glassnet.settings") == {o["name"]: o["default"] for o in options()}
    english.close()


@in_browser
def test_the_numbers_panel_follows_training_while_playing(browser, server_url):
    tab = Playground(browser, server_url + "#dataset=xor&hidden=3&learning_rate=0.1&seed=7")
    page = tab.page
    page.click('#network .neuron[data-layer="1"][data-unit="2"]')
    tab.step(1)
    tab.numbers()
    flight, log = [0, 0], []          # numbers requests in flight, the most at once; the order of events

    def sent(request):
        if request.url.endswith("/api/numbers"):
            flight[0] += 1
            flight[1] = max(flight)
        elif request.url.endswith("/api/step"):
            log.append(("step sent, numbers in flight:", flight[0]))

    def done(request):
        if request.url.endswith("/api/numbers"):
            flight[0] -= 1
            log.append(("numbers", request.response().json()["title"]))

    page.on("request", sent)
    page.on("requestfinished", done)
    tab.play_until("glassnet.step >= 300")
    values, _ = tab.numbers()
    steps = tab.js("glassnet.step")
    drawn = {answer.json()["state"]["step"] for answer in tab.step_answers}
    followed = [int(re.search(r"\(step (\d+)\)$", title).group(1)) for kind, title in log if kind == "numbers"]
    assert len(followed) >= 4, log                              # it refreshed while playing, not only at pause
    assert followed == sorted(drawn - {1}), (followed, sorted(drawn))   # after every redraw, in order
    assert flight[1] == 1, "at most one /api/numbers request in flight"
    assert [n for kind, n in log if kind.startswith("step") and n] == [], "a step overtook the panel's request"
    assert followed[-1] == steps and int(page.get_attribute("#numbers", "data-step")) == steps
    assert f"(step {steps})" in page.inner_text("#numbers-title")
    _, trace, _ = reference(tab.js("glassnet.settings"), steps)
    hidden = trace.layers[0]
    exactly_among({"z": hidden.z[0, 2], "a": hidden.a[0, 2], "dL/dz": hidden.dL_dz[0, 2], "dL/db": hidden.db[2],
                   "b before": hidden.b[2], "b after": hidden.b_after[2]}, values, f"hidden neuron 2 at step {steps}")
    tab.close()
