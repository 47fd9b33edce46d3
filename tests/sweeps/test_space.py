"""Search spaces: every shipped file loads, and each mistake names the file, key and fix."""

import pytest
import yaml

from sweeps.space import default_path, load_space, parse_space
from vae.data import DATASETS
from vae.errors import ConfigError

OBJECTIVES = {"mnist": ("val_elbo", "max"), "fashion_mnist": ("val_elbo", "max"), "celeba": ("val_elbo", "max"),
              "dsprites": ("val_mig", "max")}
SHARED_SPACES = {"autoencoders": ("val_reconstruction_loss", "min"), "conditional": ("val_elbo", "max")}


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_shipped_search_spaces_load_with_all_budgets_and_a_comparable_objective(dataset):
    space = load_space(dataset)
    assert set(space.budgets) == {"smoke", "quick", "full"}
    assert space.budgets["smoke"].max_trials == 2 and space.budgets["smoke"].epochs == 1
    assert space.budgets["full"].replicates == 3
    assert (space.objective, space.direction) == OBJECTIVES[dataset]


@pytest.mark.parametrize("name", list(SHARED_SPACES))
def test_spaces_for_any_dataset_load_for_mnist(name):
    space = load_space("mnist", default_path(name))
    assert (space.objective, space.direction) == SHARED_SPACES[name]


def test_every_family_is_in_a_shipped_space():
    from vae.models import MODELS

    shipped = {f for d in DATASETS for f in load_space(d).models}
    shipped |= {f for n in SHARED_SPACES for f in load_space("mnist", default_path(n)).models}
    assert shipped == set(MODELS)


def mixed_by_loss():
    raw = base()
    raw["models"] = {"conv": {}, "beta": {"beta": [0.1, 1, 4, 10]}, "wae": {"mmd_weight": [10.0]}}
    raw["objective"] = {"name": "val_loss", "direction": "min"}
    return raw


def test_a_weighted_loss_across_families_is_refused_unless_accepted():
    with pytest.raises(ConfigError, match="'objective' 'val_loss' is each family's own weighted objective"):
        parse_space(mixed_by_loss(), "mnist", "my.yaml")
    single = base()
    single["models"] = {"beta": {"beta": [1, 4]}}
    single["objective"] = "val_loss"
    with pytest.raises(ConfigError, match="the swept models.beta.beta"):
        parse_space(single, "mnist", "my.yaml")
    accepted = mixed_by_loss()
    accepted["objective"]["accept_weighted"] = True
    assert parse_space(accepted, "mnist", "my.yaml").objective == "val_loss"
    single["models"] = {"beta": {"beta": [4]}}
    assert parse_space(single, "mnist", "my.yaml").direction == "min"  # one family, one weight: comparable


def test_a_test_set_objective_is_refused_for_its_validation_twin():
    raw = base()
    raw["objective"] = "test_nll"
    with pytest.raises(ConfigError, match="'test_nll' is a test-set figure.*rank by its validation twin val_nll"):
        parse_space(raw, "mnist", "my.yaml")


def conditional_with_unconditional():
    raw = base()
    raw["models"] = {"mlp": {}, "cvae": {}}
    raw["objective"] = {"name": "val_elbo", "direction": "max"}
    return raw


def reconstruction_across_mmd_weights():
    raw = yaml.safe_load(default_path("autoencoders").read_text())
    raw["models"]["wae"] = {"mmd_weight": [10.0, 100.0, 1000.0]}
    return raw


def test_bounds_of_conditional_and_unconditional_families_are_not_ranked_together():
    with pytest.raises(ConfigError, match=r"bounds log p\(x \| y\) for cvae but log p\(x\) for the others"):
        parse_space(conditional_with_unconditional(), "mnist", "my.yaml")


def test_reconstruction_across_a_swept_weight_or_capacity_is_refused_unless_accepted():
    with pytest.raises(ConfigError, match="highest-capacity model across the swept models.wae.mmd_weight"):
        parse_space(reconstruction_across_mmd_weights(), "mnist", "my.yaml")
    raw = yaml.safe_load(default_path("autoencoders").read_text())
    raw["models"]["vqvae"]["num_embeddings"] = [32, 128]
    with pytest.raises(ConfigError, match="models.vqvae.num_embeddings"):
        parse_space(raw, "mnist", "my.yaml")
    raw["objective"]["accept_weighted"] = True
    assert parse_space(raw, "mnist", "my.yaml").accept_weighted


def test_a_trial_metric_objective_must_apply_to_every_family():
    raw = base()
    raw["models"]["wae"] = {"mmd_weight": [10.0, 100.0, 1000.0]}  # the values infovae lists
    raw["objective"] = "val_nll"
    with pytest.raises(ConfigError, match="'val_nll' cannot rank 'wae': wae has no likelihood bound"):
        parse_space(raw, "mnist", "my.yaml")
    raw["objective"] = "val_mig"
    space = parse_space(raw, "mnist", "my.yaml")
    assert (space.objective, space.direction, space.objective_is_trial_metric) == ("val_mig", "max", True)


def test_issue_starting_points_are_the_defaults():
    assert load_space("mnist").shared["latent_dim"].values_span() == (2, 20)
    assert load_space("fashion_mnist").shared["latent_dim"].values_span() == (10, 50)
    assert load_space("celeba").shared["latent_dim"].values_span() == (50, 200)
    assert load_space("dsprites").shared["latent_dim"].choices == [10]
    assert load_space("mnist").models["beta"]["beta"].choices == [0.1, 1.0, 4.0, 10.0]
    assert load_space("dsprites").models["beta"]["beta"].choices == [1, 2, 4, 6, 8, 16]


def base():
    """The shipped MNIST space in its one-objective form (its guiding objective as ``objective:``)."""
    raw = yaml.safe_load(default_path("mnist").read_text())
    raw["objective"] = raw.pop("objectives")[0]
    return raw


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
    "unknown likelihood": (lambda s: s["hyperparameters"].update(likelihood=["gaussian", "poisson"]),
                           "'poisson', which is not a likelihood"),
    "binarized and 8-bit likelihoods": (lambda s: s["hyperparameters"].update(likelihood=["bernoulli", "logistic"]),
                                        "mixes likelihoods of binarized and 8-bit images"),
}


def test_the_likelihood_is_swept_like_any_hyperparameter_and_chooses_the_data():
    raw = base()
    raw["hyperparameters"]["likelihood"] = ["logistic", "gaussian_pixel", "gaussian"]
    space = parse_space(raw, "mnist", "my.yaml")
    assert space.shared["likelihood"].choices == ["logistic", "gaussian_pixel", "gaussian"]
    assert space.likelihood == "logistic"  # the sweep loads 8-bit grey images for all three
    assert (space.objective, space.direction) == ("val_elbo", "max")
    assert parse_space(base(), "mnist", "my.yaml").likelihood is None


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


@pytest.mark.parametrize("change, expected", [
    (lambda raw: raw["hyperparameters"].update(learning_rate={"min": 1e-2, "max": 1e-4}), "hyperparameters.learning_rate"),
    (lambda raw: raw.update(mixed_by_loss()), "each family's own weighted objective"),
    (lambda raw: raw.update(objective="val_mig"), "objective 'val_mig' cannot rank trials on mnist: mnist has a single label"),
    (lambda raw: raw.update(conditional_with_unconditional()), "for cvae but log p(x) for the others"),
    (lambda raw: raw.update(reconstruction_across_mmd_weights()), "across the swept models.wae.mmd_weight"),
])
def test_bad_config_fails_in_one_line_before_any_run_is_created(change, expected, tmp_path, monkeypatch, capsys,
                                                                mnist_data):
    from vaesweep.cli import main

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.yaml"
    raw = base()
    change(raw)
    path.write_text(yaml.safe_dump(raw))
    assert main(["sweep", "--dataset", "mnist", "--data-dir", str(mnist_data), "--config", str(path),
                 "--budget", "smoke"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err
    assert not (tmp_path / "mlruns").exists()


def test_objectives_list_several_figures_the_first_guiding_the_tuner():
    space = load_space("dsprites")
    assert space.all_objectives() == (("val_mig", "max"), ("val_elbo", "max"))
    assert (space.objective, space.direction) == ("val_mig", "max")
    assert load_space("mnist").all_objectives()[1] == ("val_sample_frechet_distance", "min")
    single = parse_space(base(), "mnist", "my.yaml")
    assert single.all_objectives() == (("val_elbo", "max"),) and single.selection == "mean"


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.update(objectives=[{"name": "val_elbo"}, {"name": "test_nll"}]), "'test_nll' is a test-set figure"),
    (lambda r: r.update(objectives=[{"name": "val_elbo"}, {"name": "val_loss"}]),
     "'val_loss' is each family's own weighted objective"),
    (lambda r: r.update(objectives=[{"name": "val_elbo"}, {"name": "val_elbo"}]), "lists an objective twice"),
    (lambda r: r.update(objectives=[{"name": "val_elbo"}]) or r.update(objective="val_elbo"), "are both given"),
    (lambda r: r.update(objectives=[]), "must be a list"),
    (lambda r: r.update(objective="val_elbo", selection="best"), "'selection' is 'best'; use mean or udr"),
])
def test_every_objective_is_checked_like_objective_and_selection_is_known(change, message):
    raw = base()
    raw.pop("objective")
    change(raw)
    with pytest.raises(ConfigError, match=message):
        parse_space(raw, "mnist", "my.yaml")


def test_selection_udr_is_kept_in_the_resolved_space():
    raw = base()
    raw["selection"] = "udr"
    space = parse_space(raw, "mnist", "my.yaml")
    assert space.selection == "udr" and "selection: udr" in space.to_yaml()
