"""summary(): Keras's table, unchanged, then how the numbers add up (parameters, memory, FLOPs)."""

import numpy as np

import glassnet as gn

KERAS_TABLE = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ dense (Dense)                   │ (None, 50)             │        39,250 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_1 (Dense)                 │ (None, 10)             │           510 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 39,760 (155.31 KB)
 Trainable params: 39,760 (155.31 KB)
 Non-trainable params: 0 (0.00 B)"""


def _notes_network(dtype="float32"):
    return gn.Sequential([gn.layers.Dense(50, activation="sigmoid", input_shape=(784,), dtype=dtype),
                          gn.layers.Dense(10, activation="softmax", dtype=dtype)])


def _printed(model, **kwargs):
    calls = []
    model.summary(print_fn=calls.append, **kwargs)
    return calls


def _cells(details, name):
    """The cells of layer `name`'s row in the details table."""
    row = next(line for line in details.splitlines() if line.startswith(f"│ {name} "))
    return [cell.strip() for cell in row.strip("│").split("│")]


def test_the_keras_table_is_unchanged_and_comes_first():
    calls = _printed(_notes_network())
    assert len(calls) == 2                                 # print_fn: once per table
    assert calls[0] == KERAS_TABLE
    assert _printed(_notes_network(), details=False) == [KERAS_TABLE]


def test_the_details_table_for_the_notes_network():
    details = _printed(_notes_network())[1]
    assert details.splitlines()[1] == ("How the numbers add up (float32: 4 bytes a number; "
                                       "FLOPs: a multiply-add counts 2):")
    assert _cells(details, "dense") == ["dense", "784 x 50 + 50 = 39,250", "sigmoid, glorot_uniform",
                                        "153.32 KB", "2 x 784 x 50 + 50 = 78,450"]
    assert _cells(details, "dense_1") == ["dense_1", "50 x 10 + 10 = 510", "softmax, glorot_uniform",
                                          "1.99 KB", "2 x 50 x 10 + 10 = 1,010"]
    lines = details.splitlines()
    assert " Memory: 39,760 parameters x 4 bytes (float32) = 159,040 bytes = 155.31 KB" in lines
    assert any(line.startswith(" FLOPs per sample: 79,460 to predict") for line in lines)


def test_parameter_arithmetic_matches_the_counts():
    model = _notes_network()
    assert 784 * 50 + 50 == 39_250 == model.layers[0].count_params()
    assert 50 * 10 + 10 == 510 == model.layers[1].count_params()


def test_memory_in_float32_and_float64():
    # 39,250 float32 numbers: 157,000 bytes = 153.32 KB; float64 doubles it
    assert 39_250 * 4 / 1024 == 153.3203125 and 510 * 8 / 1024 == 3.984375
    details = _printed(_notes_network("float64"))[1]
    assert "float64: 8 bytes a number" in details
    assert _cells(details, "dense")[3] == "306.64 KB"
    assert _cells(details, "dense_1")[3] == "3.98 KB"
    assert " Memory: 39,760 parameters x 8 bytes (float64) = 318,080 bytes = 310.62 KB" in details.splitlines()


def test_flops_against_a_hand_count():
    # Dense: one multiply and one add per weight (2 * in * out), one add per bias (out); activations not counted
    model = gn.Sequential([gn.layers.Dense(3, activation="relu", input_shape=(4,)),
                           gn.layers.Dense(2, use_bias=False)])
    details = _printed(model)[1]
    hand = (2 * 4 * 3 + 3) + (2 * 3 * 2)                   # 27 + 12
    assert _cells(details, "dense")[4] == "2 x 4 x 3 + 3 = 27"
    assert _cells(details, "dense_1")[4] == "2 x 3 x 2 = 12"
    assert _cells(details, "dense_1")[1] == "3 x 2 = 6"
    assert f" FLOPs per sample: {hand} to predict" in details


def test_a_model_used_as_a_layer_twice_counts_its_layers_twice():
    encoder = gn.Sequential([gn.layers.Dense(4, activation="relu", input_shape=(5,)), gn.layers.Dense(2)],
                            name="encoder")
    a, b = gn.Input(shape=(5,), name="a"), gn.Input(shape=(5,), name="b")
    shared = gn.layers.Dense(3, name="shared")
    joined = gn.layers.Concatenate(name="both")([shared(encoder(a)), shared(encoder(b))])
    model = gn.Model([a, b], gn.layers.Dense(1, name="out")(joined))
    details = _printed(model)[1]
    inner = (2 * 5 * 4 + 4) + (2 * 4 * 2 + 2)              # 44 + 18 per call of the encoder
    assert _cells(details, "encoder")[4] == f"2 calls x {inner} = {2 * inner}"
    assert _cells(details, "encoder")[2] == "a model of 2 layers"
    assert _cells(details, "shared")[4] == f"2 calls x {2 * 2 * 3 + 3} = {2 * 15}"
    assert f" FLOPs per sample: {2 * inner + 2 * 15 + (2 * 6 + 1)} to predict" in details


def test_batch_normalization_dropout_and_flatten_rows():
    model = gn.Sequential([
        gn.layers.Flatten(input_shape=(28, 28)),
        gn.layers.Dense(64, activation="relu", kernel_initializer=gn.initializers.RandomNormal(stddev=0.01),
                        bias_initializer=gn.initializers.Constant(-10)),
        gn.layers.BatchNormalization(),
        gn.layers.Dropout(0.5),
        gn.layers.Dense(10, use_bias=False),
        gn.layers.Activation("softmax"),
    ])
    keras_table, details = _printed(model)
    assert " Non-trainable params: 128 (512.00 B)" in keras_table.splitlines()
    assert _cells(details, "flatten") == ["flatten", "0", "reshape", "0.00 B", "0"]
    assert _cells(details, "dense") == ["dense", "784 x 64 + 64 = 50,240",
                                        "relu, random_normal(stddev=0.01), bias constant(-10)",
                                        "196.25 KB", "2 x 784 x 64 + 64 = 100,416"]
    # gamma and beta are trained; the moving mean and variance are kept but not trained
    assert _cells(details, "batch_normalization") == ["batch_normalization", "4 x 64 = 256 (128 trainable)",
                                                      "gamma ones, beta zeros", "1.00 KB", "4 x 64 = 256"]
    assert _cells(details, "dropout") == ["dropout", "0", "dropout 0.5 (training only)", "0.00 B", "0"]
    assert _cells(details, "dense_1")[1:3] == ["64 x 10 = 640", "linear, glorot_uniform"]
    assert _cells(details, "activation") == ["activation", "0", "softmax", "0.00 B", "0"]
    assert f" FLOPs per sample: {100_416 + 256 + 1_280:,} to predict" in details
    assert model.count_params() == 51_136 and "51,136 parameters x 4 bytes" in details


def test_dense_on_sequences_counts_every_position():
    model = gn.Sequential([gn.layers.Dense(4, input_shape=(5, 8))])
    details = _printed(model)[1]
    assert _cells(details, "dense")[4] == "5 x (2 x 8 x 4 + 4) = 340"
    assert _cells(details, "dense")[1] == "8 x 4 + 4 = 36"


def test_summary_prints_both_tables_to_stdout(capsys):
    _notes_network().summary()
    out = capsys.readouterr().out
    assert out.startswith(KERAS_TABLE + "\n\nHow the numbers add up")
    assert "784 x 50 + 50 = 39,250" in out
    _notes_network().summary(details=False)
    assert capsys.readouterr().out == KERAS_TABLE + "\n"


def test_keras_table_widens_for_long_layer_names():
    model = gn.Sequential([gn.layers.Dense(4, input_shape=(3,)), gn.layers.BatchNormalization()])
    lines = []
    model.summary(print_fn=lines.append, details=False)
    table = [line for line in lines[0].splitlines() if line[:1] in "┏┃┡│├└"]
    assert len({len(line) for line in table}) == 1, table
    assert any("batch_normalization (BatchNormalization)" in line for line in table)


def test_an_unbuilt_model_prints_keras_3s_unbuilt_table(keras, capsys):
    """A Sequential without an input shape, before its first fit: Keras 3 prints "?" and "0 (unbuilt)"
    (Keras 2 raised); the same table, then one line saying when the numbers appear."""
    def build(lib):
        return lib.Sequential([lib.layers.Dense(16, activation="relu", name="hidden"), lib.layers.Dropout(0.5),
                               lib.layers.Dense(1, activation="sigmoid")], name="reviews")

    keras.backend.clear_session()                           # Keras numbers names across the whole run
    theirs = []
    build(keras).summary(print_fn=lambda text, **kwargs: theirs.append(text.rstrip("\n")))
    capsys.readouterr()
    ours = []
    model = build(gn)
    model.summary(print_fn=ours.append)
    assert ours[0] == "\n".join(theirs)
    assert "(unbuilt)" in ours[0] and "built" in ours[1] and len(ours) == 2
    model.summary()                                         # to stdout too, details=False: Keras's table only
    model.summary(details=False)
    out = capsys.readouterr().out
    assert out.count("0 (unbuilt)") == 4 and out.count("appear once the model is built") == 1
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    model.fit(np.ones((8, 5)), np.ones(8), verbose=0)
    model.summary(print_fn=ours.append)
    assert "(None, 16)" in ours[2] and "96" in ours[2]       # built by fit: 5 x 16 + 16


def test_an_empty_sequential_prints_an_empty_table(keras, capsys):
    keras.backend.clear_session()
    theirs = []
    keras.Sequential().summary(print_fn=lambda text, **kwargs: theirs.append(text.rstrip("\n")))
    ours = []
    gn.Sequential().summary(print_fn=ours.append, details=False)
    assert ours == ["\n".join(theirs)]
