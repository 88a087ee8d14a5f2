"""bfloat16 training: the step runs in bfloat16 and learns, weights and exports stay float32,
and "auto" keeps bfloat16 only when it times faster, without touching the model."""

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch
from test_learner_train import TICTACTOE, fill_db, small_config

from learner import precision as precision_module
from learner.config import ConfigError, make_config
from learner.network import build_network
from learner.precision import choose_precision
from learner.train import Trainer
from runfiles.layout import LATEST_MODEL, RunFolder

RESNET = dict(network="resnet", blocks=1, channels=8)


def test_a_bfloat16_step_runs_in_bfloat16_learns_and_exports_float32(tmp_path) -> None:
    fill_db(tmp_path, 8)
    trainer = Trainer(
        small_config(tmp_path, precision="bfloat16", lr=0.01, weight_decay=0.0, **RESNET)
    )
    assert trainer.precision == "bfloat16"
    seen = []
    first_conv = next(m for m in trainer.model.modules() if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    trainer.replay.poll()
    fixed = trainer.replay.sample(64, np.random.default_rng(0), augment=False)
    first = trainer.train_step(*fixed)
    for _ in range(200):
        last = trainer.train_step(*fixed)
    assert seen[0] == torch.bfloat16  # autocast is on for the forward pass
    assert last[0] < 0.6 * first[0]
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert trainer.publish()
    session = ort.InferenceSession(str(trainer.models_dir / LATEST_MODEL))
    assert session.get_inputs()[0].type == "tensor(float)"
    planes = fixed[0][:8]
    policy, value = session.run(["policy", "value"], {"planes": planes})
    reference = build_network(TICTACTOE, trainer.config)
    reference.load_state_dict(trainer.model.state_dict())
    with torch.no_grad():
        expected_policy, expected_value = reference.eval()(torch.from_numpy(planes))
    np.testing.assert_allclose(policy, expected_policy.numpy(), atol=1e-4)
    np.testing.assert_allclose(value, expected_value.numpy(), atol=1e-4)


@pytest.mark.parametrize(
    "bfloat16_ms, expected", [(10.0, "bfloat16"), (18.0, "float32"), (25.0, "float32")]
)
def test_auto_keeps_bfloat16_only_when_clearly_faster(monkeypatch, bfloat16_ms, expected) -> None:
    times = {"float32": 0.020, "bfloat16": bfloat16_ms / 1e3}
    monkeypatch.setattr(
        precision_module,
        "step_seconds",
        lambda model, planes, precision: times[precision],
    )
    model = build_network(TICTACTOE, make_config("tictactoe"))
    chosen, reason = choose_precision("auto", model, torch.zeros(4, *TICTACTOE.plane_shape))
    assert chosen == expected
    assert f"bfloat16 {bfloat16_ms:.1f} ms, float32 20.0 ms" in reason


def test_auto_falls_back_to_float32_where_bfloat16_fails(monkeypatch) -> None:
    def failing(model, planes, precision):
        if precision == "bfloat16":
            raise RuntimeError("no bfloat16 kernel")
        return 0.01

    monkeypatch.setattr(precision_module, "step_seconds", failing)
    model = build_network(TICTACTOE, make_config("tictactoe"))
    chosen, reason = choose_precision("auto", model, torch.zeros(4, *TICTACTOE.plane_shape))
    assert chosen == "float32" and "no bfloat16 kernel" in reason


def test_timing_leaves_the_model_untouched() -> None:
    """The timing trains a copy: the network's weights and batch-norm statistics stay as they
    were, and it holds no gradients."""
    model = build_network(TICTACTOE, make_config("tictactoe", **RESNET)).train()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    planes = (torch.rand(32, *TICTACTOE.plane_shape) < 0.3).float()
    chosen, reason = choose_precision("auto", model, planes)
    assert chosen in ("float32", "bfloat16") and "ms per forward + backward" in reason
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    assert all(p.grad is None for p in model.parameters())


def test_the_choice_is_logged_and_in_stats_json(tmp_path, caplog) -> None:
    fill_db(tmp_path)
    caplog.set_level("INFO", logger="learner")
    trainer = Trainer(small_config(tmp_path, max_steps=5, precision="auto"))
    trainer.run()
    stats = json.loads(RunFolder(tmp_path / "tictactoe").stats.read_text())
    assert stats["precision"] == trainer.precision
    assert f"training in {trainer.precision}: " in caplog.text


def test_an_unknown_precision_is_refused() -> None:
    with pytest.raises(ConfigError, match="precision must be one of auto, float32, bfloat16"):
        make_config("tictactoe", precision="float16")


def test_only_othello_asks_for_bfloat16_by_default() -> None:
    """Othello's learner idles at its replay ratio when bfloat16 is fast, and its second
    self-play worker uses that time; the other games keep float32 (data/pretrained/README.md)."""
    assert make_config("othello").precision == "auto"
    assert make_config("connect4").precision == "float32"
    assert make_config("tictactoe").precision == "float32"
    assert make_config("othello", precision="float32").precision == "float32"
