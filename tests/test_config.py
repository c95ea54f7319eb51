# Copyright 2026 The keras-s2s Authors. SPDX-License-Identifier: Apache-2.0
import json

import pytest

from keras_s2s.config import ConfigError, ModelConfig, RunConfig


def test_json_round_trip_is_exact():
    cfg = RunConfig().override(rnn="lstm", units=48, epochs=2, tokenizer="char", beam_width=4)
    again = RunConfig.from_json(cfg.to_json())
    assert again == cfg
    assert json.loads(cfg.to_json())["model"]["rnn"] == "lstm"
    assert again.tokenizer.kind == "char"


def test_save_and_load(tmp_path):
    cfg = RunConfig().override(seed=7, dropout=0.3)
    path = tmp_path / "config.json"
    cfg.save(path)
    assert RunConfig.load(path) == cfg


def test_partial_dict_fills_defaults():
    cfg = RunConfig.from_dict({"model": {"rnn": "lstm"}})
    assert cfg.model == ModelConfig(rnn="lstm")
    assert cfg.train == RunConfig().train


def test_override_ignores_none():
    assert RunConfig().override(rnn=None, units=None) == RunConfig()


@pytest.mark.parametrize(
    "values, message",
    [
        ({"rnn": "transformer"}, "rnn must be one of gru, lstm; got 'transformer'"),
        ({"dropout": 1.0}, "dropout must be in [0, 1); got 1.0"),
        ({"encoder_layers": 2}, "encoder_layers and decoder_layers must be equal"),
        ({"beam_width": 2, "n_best": 3}, "n_best (3) cannot exceed beam_width (2)"),
        ({"vocab_size": 4}, "vocab_size must be at least 8; got 4"),
        ({"colour": "red"}, "unknown config field 'colour'"),
    ],
)
def test_invalid_values_raise(values, message):
    with pytest.raises(ConfigError) as e:
        RunConfig().override(**values)
    assert message in str(e.value)


def test_unknown_section_and_field():
    with pytest.raises(ConfigError, match="unknown config section"):
        RunConfig.from_dict({"optimiser": {}})
    with pytest.raises(ConfigError, match="unknown field\\(s\\) in 'model': size"):
        RunConfig.from_dict({"model": {"size": 3}})


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="missing.json: no such config file"):
        RunConfig.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="bad.json: config is not valid JSON"):
        RunConfig.load(bad)


def test_get_reads_the_flat_field_names_that_override_takes():
    config = RunConfig().override(units=32, tokenizer="char", beam_width=4)
    assert config.get("units") == 32
    assert config.get("tokenizer") == "char"  # the alias of tokenizer.kind
    assert config.get("beam_width") == 4
    with pytest.raises(ConfigError, match="unknown config field 'nope'"):
        config.get("nope")
