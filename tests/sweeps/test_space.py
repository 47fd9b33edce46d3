"""Search spaces: every shipped file loads, and each mistake names the file, key and fix."""

import pytest
import yaml

from sweeps.space import default_path, load_space, parse_space
from vae.data import DATASETS
from vae.errors import ConfigError


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_shipped_search_spaces_load_with_all_budgets(dataset):
    space = load_space(dataset)
    assert set(space.budgets) == {"smoke", "quick", "full"}
    assert space.budgets["smoke"].max_trials == 2 and space.budgets["smoke"].epochs == 1
    assert space.objective == "val_loss" and space.direction == "min"


def test_issue_starting_points_are_the_defaults():
    assert load_space("mnist").shared["latent_dim"].values_span() == (2, 20)
    assert load_space("fashion_mnist").shared["latent_dim"].values_span() == (10, 50)
    assert load_space("celeba").shared["latent_dim"].values_span() == (50, 200)
    assert load_space("dsprites").shared["latent_dim"].choices == [10]
    assert load_space("mnist").models["beta"]["beta"].choices == [0.1, 1.0, 4.0, 10.0]
    assert load_space("dsprites").models["beta"]["beta"].choices == [1, 2, 4, 6, 8, 16]


def base():
    return yaml.safe_load(default_path("mnist").read_text())


MISTAKES = {
    "unknown top key": (lambda s: s.update(epochz=3), "'epochz' is not a known key"),
    "unknown hyperparameter": (lambda s: s["hyperparameters"].update(dropout=[0.1]), "'hyperparameters.dropout'"),
    "beta in shared": (lambda s: s["hyperparameters"].update(beta=[1]), "belongs under the families"),
    "impossible range": (lambda s: s["hyperparameters"].update(latent_dim={"min": 20, "max": 2}), "min 20 > max 2"),
    "latent dim zero": (lambda s: s["hyperparameters"].update(latent_dim=[0, 2]), "impossible value 0"),
    "negative learning rate": (lambda s: s["hyperparameters"].update(learning_rate=[-1e-3]), "impossible value"),
    "depth out of range": (lambda s: s["hyperparameters"].update(depth=[1, 2]), "takes depth 2..4"),
    "unknown family": (lambda s: s["models"].update(gan={}), "'models.gan' is not a model family"),
    "unknown objective": (lambda s: s.update(objective="val_accuracy"), "which the models do not log"),
    "bad budget": (lambda s: s["budgets"].update(smoke={"max_trials": 0, "epochs": 1}), "budgets.smoke.max_trials"),
    "string values": (lambda s: s["hyperparameters"].update(batch_size=["big"]), "use numbers"),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_search_space_mistakes_name_the_file_and_the_key(case):
    change, expected = MISTAKES[case]
    raw = base()
    change(raw)
    with pytest.raises(ConfigError) as info:
        parse_space(raw, "mnist", "my.yaml")
    message = str(info.value)
    assert message.startswith("my.yaml: ") and expected in message, message
    assert "\n" not in message


def test_invalid_yaml_syntax_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("models:\n  conv: {\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML at line"):
        load_space("mnist", path)


def test_bad_config_fails_before_any_run_is_created(tmp_path, monkeypatch, capsys):
    from vaesweep.cli import main

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.yaml"
    raw = base()
    raw["hyperparameters"]["learning_rate"] = {"min": 1e-2, "max": 1e-4}
    path.write_text(yaml.safe_dump(raw))
    assert main(["sweep", "--dataset", "mnist", "--config", str(path), "--budget", "smoke"]) == 2
    assert "hyperparameters.learning_rate" in capsys.readouterr().err
    assert not (tmp_path / "mlruns").exists()
