"""The policy-value networks: a residual CNN for board games, a small MLP for Tic-tac-toe.

Both map planes float32 [B, C, H, W] to (policy logits [B, num_actions], value [B, 1] in -1..1
for the side to move), the shapes of the ONNX contract. Sizes come from `LearnerConfig`; the
per-game defaults are small on purpose: on a 2-core CPU the actor evaluates this network for
every MCTS leaf, so inference cost bounds how fast new games arrive (see learner/config.py).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from engine import Game, get_game
from learner.config import ConfigError


class ResidualBlock(nn.Module):
    """conv-BN-ReLU-conv-BN plus the skip connection, then ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(x + y)


class ResNet(nn.Module):
    """AlphaZero's tower: a conv stem, `blocks` residual blocks, policy and value heads."""

    def __init__(self, game: Game, blocks: int, channels: int, hidden: int) -> None:
        super().__init__()
        cells = game.rows * game.cols
        self.stem = nn.Sequential(
            nn.Conv2d(game.num_planes, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
        )
        self.tower = nn.Sequential(*(ResidualBlock(channels) for _ in range(blocks)))
        self.policy_head = nn.Sequential(
            nn.Conv2d(channels, 2, 1, bias=False),
            nn.BatchNorm2d(2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * cells, game.num_actions),
        )
        self.value_head = nn.Sequential(
            nn.Conv2d(channels, 1, 1, bias=False),
            nn.BatchNorm2d(1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(cells, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
            nn.Tanh(),
        )

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.tower(self.stem(planes))
        return self.policy_head(x), self.value_head(x)


class MLPNet(nn.Module):
    """Flattened planes through `layers` ReLU layers of width `hidden`, then the two heads.

    For Tic-tac-toe a convolution buys nothing (the board is 3x3) and this is several times
    cheaper per evaluation, which is what limits self-play speed.
    """

    def __init__(self, game: Game, layers: int, hidden: int) -> None:
        super().__init__()
        width = game.num_planes * game.rows * game.cols
        body: list[nn.Module] = [nn.Flatten()]
        for _ in range(layers):
            body += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.body = nn.Sequential(*body)
        self.policy_head = nn.Linear(width, game.num_actions)
        self.value_head = nn.Sequential(nn.Linear(width, 1), nn.Tanh())

    def forward(self, planes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.body(planes)
        return self.policy_head(x), self.value_head(x)


def build_network(game: Game | str, config: Any = None) -> nn.Module:
    """The network `config` describes for `game` (config None: the game's default config).

    `config` needs the attributes network, blocks, channels, hidden, mlp_layers (a
    `learner.config.LearnerConfig` has them). The module is on the CPU in training mode.
    """
    if isinstance(game, str):
        game = get_game(game)
    if config is None:
        from learner.config import make_config

        config = make_config(game.name)
    if config.network == "mlp":
        return MLPNet(game, config.mlp_layers, config.hidden)
    if config.network == "resnet":
        return ResNet(game, config.blocks, config.channels, config.hidden)
    raise ValueError(f"unknown network {config.network!r}; known: resnet, mlp")


def pick_device(name: str = "auto") -> torch.device:
    """CUDA when asked or when `auto` and torch sees a GPU; else the CPU. A ConfigError when
    CUDA is asked for and torch finds none (torch's own error comes later, as a traceback)."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda, but torch finds no CUDA GPU here: use --device cpu")
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")
