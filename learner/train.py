"""The training loop: sample the window, take an AlphaZero step, publish, checkpoint, report.

One `Trainer.run()` loop, readable top to bottom: poll replay.db for new games, wait while the
window is too small or the replay ratio is exceeded, otherwise train one batch; every
`publish_every` steps export ONNX, every `checkpoint_every` steps save a checkpoint, every
`stats_every_s` seconds write stats.json and a progress log line, every `delete_every_s`
(or sooner, once a window's worth of positions came in) trim replay.db to the window.
"""

from __future__ import annotations

import bisect
import collections
import logging
import logging.handlers
import math
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine import get_game
from learner.checkpoint import CheckpointRefused, load_checkpoint, save_checkpoint
from learner.config import (
    LearnerConfig,
    non_defaults,
    run_defaults,
    run_settings,
    setting_changes,
    to_dict,
    write_effective,
)
from learner.export import kept_steps, publish, remove_stale_temp_files
from learner.network import build_network, pick_device
from learner.precision import autocast, choose_precision
from learner.replay import Replay, ReplayDamaged, ReplayUnavailable
from runfiles import free_name, set_aside, utc_stamp
from runfiles import stats as stats_module
from runfiles.layout import RunFolder, model_step_name

log = logging.getLogger("learner")
LOG_FILE_BYTES = 20 * 1024 * 1024
EARLY_STATS_S = 0.5  # stats.json's first writes of a run, this often (see `stats_interval`)
TRIM_LOG_EVERY_S = 60.0  # Tic-tac-toe trims every ~2 s: one summary line a minute at most


def alphazero_loss(
    policy_logits: torch.Tensor,
    value: torch.Tensor,
    policy_target: torch.Tensor,
    value_target: torch.Tensor,
    value_weight: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, policy cross-entropy vs the visit distribution, value MSE vs the target)."""
    policy_loss = -(policy_target * F.log_softmax(policy_logits, dim=1)).sum(dim=1).mean()
    value_loss = F.mse_loss(value.squeeze(1), value_target)
    return policy_loss + value_weight * value_loss, policy_loss, value_loss


def lr_factor(config: LearnerConfig, step: int) -> float:
    """The learning rate at `step` as a multiple of config.lr (warm-up, then the schedule)."""
    if config.warmup_steps > 0 and step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.lr_schedule == "step":
        return config.lr_gamma ** (step // config.lr_step_every)
    if config.lr_schedule == "milestones":
        return config.lr_gamma ** bisect.bisect_right(config.lr_milestones, step)
    if config.lr_schedule == "cosine":
        progress = min(1.0, step / max(1, config.lr_total_steps))
        low = config.lr_min_ratio
        return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))
    return 1.0


def build_optimizer(config: LearnerConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """SGD with (Nesterov) momentum, or AdamW (Adam with decoupled weight decay).

    The fused implementations are used where torch has them: for small networks the
    per-parameter Python loop of the default optimiser step costs more than the maths.
    """
    try:
        return _optimizer(config, model, fused=True)
    except (RuntimeError, ValueError, TypeError):  # no fused kernel for this device or dtype
        return _optimizer(config, model, fused=False)


def _optimizer(config: LearnerConfig, model: torch.nn.Module, fused: bool) -> torch.optim.Optimizer:
    options = {"fused": True} if fused else {}
    if config.optimizer == "adam":
        return torch.optim.AdamW(
            model.parameters(), lr=config.lr, weight_decay=config.weight_decay, **options
        )
    return torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        nesterov=config.momentum > 0,
        **options,
    )


class RateMeter:
    """Per-second rates of growing counters over the last `span_s` seconds; NaN (null in
    stats.json, a gap in the charts) until `min_span_s` have passed since the first update: a
    0 there would draw a drop to nothing at every start and resume, and a rate over the first
    half second (stats are written that often at a run's start) would measure one burst of
    games."""

    def __init__(self, span_s: float = 60.0, min_span_s: float = 5.0) -> None:
        self.span_s = span_s
        self.min_span_s = min_span_s
        self.points: collections.deque[tuple[float, tuple[float, ...]]] = collections.deque()

    def update(self, *counters: float) -> tuple[float, ...]:
        now = time.monotonic()
        self.points.append((now, counters))
        while len(self.points) > 2 and now - self.points[1][0] >= self.span_s:
            self.points.popleft()
        start_time, start = self.points[0]
        elapsed = now - start_time
        if elapsed <= 0 or elapsed < self.min_span_s:
            return tuple(math.nan for _ in counters)
        return tuple((c - s) / elapsed for c, s in zip(counters, start, strict=True))


def stats_interval(elapsed_s: float, every_s: float) -> float:
    """Seconds between two stats writes, `elapsed_s` into a learner's run: from EARLY_STATS_S
    growing to `every_s` over the first minute. Tic-tac-toe learns most of what it learns in
    its first seconds, which a 5 s interval would draw as one point."""
    return min(every_s, max(EARLY_STATS_S, elapsed_s / 12))


def _rate_text(rate: float, digits: int) -> str:
    return "n/a" if math.isnan(rate) else f"{rate:.{digits}f}"


class Trainer:
    """Everything one learner run holds: network, optimiser, replay, counters, files."""

    def __init__(self, config: LearnerConfig) -> None:
        self.config = config
        self.game = get_game(config.game)
        self.run_dir = config.run_dir
        self.folder = RunFolder(self.run_dir)
        self.models_dir = self.folder.models
        self.checkpoint_path = self.folder.checkpoint
        self.stats_path = self.folder.stats
        torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.device = pick_device(config.device)
        # Convolutions train a quarter faster on channels-last tensors (measured on CPU:
        # benchmarks/learner.py); the MLP has none.
        self.memory_format = (
            torch.channels_last if config.network == "resnet" else torch.contiguous_format
        )
        self.model = build_network(self.game, config).to(
            self.device, memory_format=self.memory_format
        )
        self.model.train()  # stays in training mode: exports use an eval-mode copy
        self.precision, self.precision_reason = choose_precision(
            config.precision, self.model, self._timing_planes()
        )
        self.optimizer = build_optimizer(config, self.model)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: lr_factor(config, step)
        )
        self.rng = np.random.default_rng(config.seed)
        self.replay = Replay(
            self.game,
            self.folder.replay_db,
            config.window_positions,
            root_value_mix=config.root_value_mix,
            read_chunk_rows=config.read_chunk_rows,
        )
        self.step = 0
        self.samples_trained = 0
        self.skipped_steps = 0  # updates skipped for a non-finite loss
        self.diverged_at: int | None = None  # the step whose weights were not finite
        # Mean losses of the steps between two stats writes: one batch's loss jumps by a tenth
        # from one write to the next, which the loss card and chart would show as noise.
        self.last_loss: tuple[float, float, float] | None = None
        self._loss_sums = np.zeros(3)
        self._loss_steps = 0
        self._resume()
        self.started = (self.step, time.time())  # where this start took the run up
        self.stats = stats_module.load_stats(
            self.stats_path, self.game.name, to_dict(config), self.step, run_defaults(config.game)
        )
        self.stats["precision"] = self.precision
        # Training time: the run's before this start, plus this learner's since it began.
        self._elapsed_before = self.stats["elapsed_s"]
        self._began = time.monotonic()
        self._incoming = RateMeter()
        self._samples_meter = RateMeter(span_s=30.0)
        self.waited_s = 0.0  # seconds this learner waited for self-play data (`ready`)
        self._waiting_meter = RateMeter()
        self._last_published = self.step
        self._last_checkpoint = self.step
        self._last_unavailable_log = -math.inf
        self._trimmed_games = 0  # games deleted from replay.db since the last trim log line
        self._last_trim_log = -math.inf
        self._last_log = -math.inf  # of the progress line

    def _timing_planes(self) -> torch.Tensor:
        """A training batch of random 0/1 planes, for timing the precisions."""
        shape = (self.config.batch_size, *self.game.plane_shape)
        planes = (torch.rand(shape, generator=torch.Generator().manual_seed(0)) < 0.3).float()
        return planes.to(self.device, memory_format=self.memory_format)

    # ------------------------------------------------------------------ state on disk

    def _resume(self) -> None:
        """Continues from the checkpoint; without a usable one the run starts over at step 0,
        with the old run's files set aside rather than overwritten."""
        try:
            resumed = load_checkpoint(
                self.checkpoint_path,
                game=self.game.name,
                model=self.model,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                rng=self.rng,
            )
        except CheckpointRefused as error:
            # Renamed for the user, and no longer `*.pt`, which the actor takes for a run to
            # resume. A rename that fails (logged) must not stop the learner either.
            kept = set_aside(self.checkpoint_path, "refused", log=log)
            if kept is None:
                fate = "the checkpoint cannot be kept: the new run's first checkpoint replaces it"
                stamp = utc_stamp()
            else:
                fate = f"the checkpoint is kept as {kept.name}"
                stamp = kept.name.rpartition(".refused-")[2]  # the old run's files: this time
            log.warning(
                "cannot resume from %s (%s): training starts over from step 0; %s",
                self.checkpoint_path,
                error,
                fate,
            )
            self._set_aside_old_models(stamp)
            self._set_aside_old_stats(stamp)
            return
        if resumed is None:  # no checkpoint: an earlier run's models, if any, go with its stats
            stamp = utc_stamp()
            if self._set_aside_old_models(stamp):
                self._set_aside_old_stats(stamp)
            return
        self.step, extra = resumed
        self._apply_config_to_optimizer()
        self.samples_trained = int(extra.get("samples_trained", 0))
        self.replay.counters.new_positions = int(extra.get("new_positions", 0))
        self.replay.counters.skipped_rows = int(extra.get("skipped_rows", 0))
        self.replay.resume_last_id = int(extra.get("last_id", 0))
        log.info("resumed %s at step %d from %s", self.game.name, self.step, self.checkpoint_path)

    def _set_aside_old_models(self, stamp: str) -> bool:
        """Moves an earlier run's step files into `models/previous-<UTC time>/`: the new run
        makes the same step numbers again, and pruning by step would delete its newer files
        while keeping the old run's higher steps. Whether there were any."""
        steps = kept_steps(self.models_dir)
        if not steps:
            return False
        folder = free_name(self.models_dir / f"previous-{stamp}")  # never into an older one
        try:
            folder.mkdir()
            for step in steps:
                name = model_step_name(step)
                (self.models_dir / name).replace(folder / name)
        except OSError as error:
            log.warning("cannot move the earlier run's models to %s: %s", folder, error)
            return True
        log.warning(
            "starting at step 0 beside an earlier run's models: its %d step files (to step %d)"
            " moved to %s",
            len(steps),
            steps[-1],
            folder,
        )
        return True

    def _set_aside_old_stats(self, stamp: str) -> None:
        """Renames an earlier run's stats.json, evaluations.json and tournament.json to
        `<name>.previous-<UTC time>`: the new run's dashboard starts afresh (the evaluations of
        the old networks were drawn on as the new run's), and the old run's are kept."""
        for path in (self.stats_path, self.folder.evaluations, self.folder.tournament):
            if not path.exists():
                continue
            target = set_aside(path, "previous", stamp=stamp, log=log)
            if target is None:
                log.warning("cannot keep the earlier run's %s: the new run replaces it", path)
                continue
            log.warning("the earlier run's %s is kept as %s", path.name, target.name)

    def _apply_config_to_optimizer(self) -> None:
        """Gives a resumed optimiser this run's settings: loading a checkpoint restores the old
        run's lr, momentum and weight decay, so a run restarted with a new --lr would keep the
        old one."""
        config = self.config
        self.scheduler.base_lrs = [config.lr] * len(self.optimizer.param_groups)
        for group in self.optimizer.param_groups:
            group["initial_lr"] = config.lr
            group["lr"] = config.lr * lr_factor(config, self.step)
            group["weight_decay"] = config.weight_decay
            if "momentum" in group:  # SGD (AdamW has betas instead)
                group["momentum"] = config.momentum
                group["nesterov"] = config.momentum > 0

    def save_checkpoint(self) -> None:
        """Saves the checkpoint; a disk error is logged and retried at the next interval."""
        self._last_checkpoint = self.step
        try:
            self._save_checkpoint()
        except OSError as error:
            log.error("cannot write checkpoint %s: %s", self.checkpoint_path, error)

    def _save_checkpoint(self) -> None:
        save_checkpoint(
            self.checkpoint_path,
            game=self.game.name,
            step=self.step,
            model=self.model,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            rng=self.rng,
            extra={
                "samples_trained": self.samples_trained,
                "new_positions": self.replay.counters.new_positions,
                "skipped_rows": self.replay.counters.skipped_rows,
                "last_id": max(self.replay.last_id, self.replay.resume_last_id),
            },
        )

    def publish(self) -> bool:
        self._last_published = self.step
        return publish(
            self.model,
            self.game,
            self.step,
            self.models_dir,
            keep_last=self.config.keep_last_models,
            milestone_every=self.config.milestone_every,
            max_milestones=self.config.max_milestones,
            early_every=self.config.publish_every,
        )

    # ------------------------------------------------------------------ data

    def poll(self) -> None:
        """Reads new games; a missing, busy or broken database is logged and waited for."""
        try:
            self.replay.poll()
        except ReplayDamaged:  # logged as an error, with how to recover, by the replay reader
            pass
        except ReplayUnavailable as error:
            now = time.monotonic()
            if now - self._last_unavailable_log > 30:  # a normal state before self-play starts
                log.info("waiting for replay data: %s", error)
                self._last_unavailable_log = now
        except Exception:  # noqa: BLE001 - the learner never crashes on data
            log.exception("unexpected error reading replay.db; will retry")

    def replay_ratio(self) -> float:
        return self.samples_trained / max(1, self.replay.counters.new_positions)

    def ready(self) -> bool:
        """Whether to train now: enough positions, and not more reuse than replay_ratio."""
        if self.replay.size < max(1, self.config.min_positions):
            return False
        return self.replay_ratio() < self.config.replay_ratio

    # ------------------------------------------------------------------ training

    def train_step(
        self, planes: np.ndarray, policy: np.ndarray, values: np.ndarray
    ) -> tuple[float, float, float]:
        """One optimiser step on a batch; (total, policy, value) losses."""
        device = self.device
        planes_t = torch.from_numpy(planes).to(
            device, non_blocking=True, memory_format=self.memory_format
        )
        policy_t = torch.from_numpy(policy).to(device, non_blocking=True)
        values_t = torch.from_numpy(values).to(device, non_blocking=True)
        with autocast(device, self.precision):
            logits, value = self.model(planes_t)
        total, policy_loss, value_loss = alphazero_loss(
            logits.float(), value.float(), policy_t, values_t, self.config.value_loss_weight
        )
        losses = (total.item(), policy_loss.item(), value_loss.item())
        if not math.isfinite(losses[0]):
            # A diverging step (lr too high) must not poison the published weights.
            self.skipped_steps += 1
            if self.skipped_steps <= 10 or self.skipped_steps % 1000 == 0:
                log.warning("non-finite loss at step %d: update skipped", self.step)
            return losses
        self.optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        self.samples_trained += len(values)
        return losses

    def write_stats(self, add_history: bool = True) -> None:
        counters = self.replay.counters
        games_per_s, positions_per_s = self._incoming.update(counters.games, counters.positions)
        (samples_per_s,) = self._samples_meter.update(self.samples_trained)
        (waiting_share,) = self._waiting_meter.update(self.waited_s)
        if self._loss_steps:
            self.last_loss = tuple((self._loss_sums / self._loss_steps).tolist())
            self._loss_sums[:] = 0.0
            self._loss_steps = 0
        loss = self.last_loss or (None, None, None)
        lr = self.optimizer.param_groups[0]["lr"]
        stats_module.record_progress(
            self.stats,
            step=self.step,
            loss_total=loss[0],
            loss_policy=loss[1],
            loss_value=loss[2],
            learning_rate=lr,
            samples_per_s=samples_per_s,
            replay_games=self.replay.window_games(),
            replay_positions=self.replay.size,
            games_per_s=games_per_s,
            positions_per_s=positions_per_s,
            skipped_rows=counters.skipped_rows,
            elapsed_s=self._elapsed_before + time.monotonic() - self._began,
            replay_oldest_step=self.replay.oldest_model_step(),
            waiting_share=waiting_share,
            history_cap=self.config.history_cap,
            add_history=add_history,
        )
        stats_module.merge_evaluations_file(self.stats, self.folder.evaluations, self.started)
        stats_module.merge_tournament_file(self.stats, self.folder.tournament)
        stats_module.write_stats(self.stats_path, self.stats)
        now = time.monotonic()
        if now - self._last_log < self.config.stats_every_s:  # stats.json is written more often
            return
        self._last_log = now
        loss_text = "n/a" if loss[0] is None else f"{loss[0]:.4f} (p {loss[1]:.4f} v {loss[2]:.4f})"
        log.info(
            "step %d loss %s lr %.2e | %s samples/s | window %d pos, %d games | "
            "in %s games/s %s pos/s | reuse %.1f/%g, waited %s%% | skipped %d",
            self.step,
            loss_text,
            lr,
            _rate_text(samples_per_s, 0),
            self.replay.size,
            self.stats["replay_games"],
            _rate_text(games_per_s, 1),
            _rate_text(positions_per_s, 0),
            self.replay_ratio(),
            self.config.replay_ratio,
            _rate_text(100 * waiting_share, 0),
            counters.skipped_rows,
        )

    def trim(self) -> None:
        try:
            deleted = self.replay.trim_database()
        except ReplayUnavailable as error:
            log.warning("could not trim replay.db: %s", error)
            return
        if deleted:
            log.debug("deleted %d games older than the window from replay.db", deleted)
            self._trimmed_games += deleted
        self._log_trims()

    def _log_trims(self, final: bool = False) -> None:
        """One line for the games the trims deleted, at most every TRIM_LOG_EVERY_S (and a
        last one at the end), so the lines still add up to all games deleted."""
        now = time.monotonic()
        if self._trimmed_games and (final or now - self._last_trim_log >= TRIM_LOG_EVERY_S):
            log.info(
                "deleted %d games older than the window from replay.db since the last such line",
                self._trimmed_games,
            )
            self._trimmed_games, self._last_trim_log = 0, now

    def run(self, stop: threading.Event | None = None) -> int:
        """Trains until `stop` is set or config.max_steps is reached; the final step."""
        config = self.config
        stop = stop or threading.Event()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.run_dir)
        before = run_settings(self.folder.learner_config)
        write_effective(config, self.folder.learner_config)
        if changes := setting_changes(before, config):
            log.info("settings changed since this run's last start: %s", ", ".join(changes))
        if kept := non_defaults(config):
            log.info(
                "settings other than the game's defaults (a restart keeps them): %s",
                ", ".join(kept),
            )
        log.info(
            "learner %s: %s on %s, %d parameters, run folder %s",
            self.game.name,
            type(self.model).__name__,
            self.device,
            sum(p.numel() for p in self.model.parameters()),
            self.run_dir,
        )
        log.info("training in %s: %s", self.precision, self.precision_reason)
        if self.step > 0 and not self.folder.latest_model.exists():
            log.info(
                "publishing the checkpoint's model (step %d): self-play waits for it", self.step
            )
            self.publish()
        steps_since_poll, skipped_in_a_row = config.poll_every_steps, 0
        started = last_stats = last_trim = time.monotonic()
        trimmed_at = self.replay.counters.positions  # positions loaded at the last trim
        try:
            while not stop.is_set() and not (config.max_steps and self.step >= config.max_steps):
                turn = time.monotonic()  # a turn that does not train counts as waiting
                if steps_since_poll >= config.poll_every_steps:
                    self.poll()
                    steps_since_poll = 0
                now = time.monotonic()
                if now - last_stats >= stats_interval(now - started, config.stats_every_s):
                    self.write_stats()
                    last_stats = now
                # Every delete_every_s, and whenever a window's worth of positions came in
                # since the last trim: Tic-tac-toe self-play fills a window in 3.5 s, and the
                # clock alone would let replay.db hold 20 times the window.
                loaded = self.replay.counters.positions
                if config.delete_every_s > 0 and (
                    now - last_trim >= config.delete_every_s
                    or loaded - trimmed_at >= config.window_positions
                ):
                    self.trim()
                    last_trim, trimmed_at = now, loaded
                if not self.ready():
                    steps_since_poll = config.poll_every_steps
                    stop.wait(config.poll_interval_s)
                    self.waited_s += time.monotonic() - turn
                    continue
                batch = self.replay.sample(config.batch_size, self.rng)
                step_before = self.step
                losses = self.train_step(*batch)
                steps_since_poll += 1
                if self.step == step_before:  # a skipped update: nothing new to save
                    skipped_in_a_row += 1
                    if skipped_in_a_row % 10 == 0 and self._diverged():  # NaN weights: all NaN
                        break
                    continue
                skipped_in_a_row = 0
                self._loss_sums += losses
                self._loss_steps += 1
                due = (self.step % config.publish_every, self.step % config.checkpoint_every)
                if 0 in due and self._diverged():
                    break
                if due[0] == 0:
                    self.publish()
                if due[1] == 0:
                    self.save_checkpoint()
        except KeyboardInterrupt:
            log.info("interrupted at step %d", self.step)
        finally:
            self.finish()
        return self.step

    def _diverged(self) -> bool:
        """Whether the weights (or BatchNorm's running statistics) hold NaN or inf: a step
        with infinite gradients but a finite loss put them there. Such a model must not be
        published (every actor refuses it) nor checkpointed (every restart would resume it):
        the run stops, saying so."""
        if self.diverged_at is None:
            tensors = [*self.model.parameters(), *self.model.buffers()]
            if all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point()):
                return False
            self.diverged_at = self.step
            log.error(
                "training diverged at step %d (the weights are not finite numbers): nothing of it"
                " is published or saved; the last checkpoint is step %d. Restart with a lower"
                " --lr (now %g)",
                self.step,
                self._last_checkpoint,
                self.config.lr,
            )
        return True

    def finish(self) -> None:
        """Publishes and checkpoints the last steps, writes stats, closes the database."""
        if self.step > self._last_published and not self._diverged():
            self.publish()
        if self.step > self._last_checkpoint and not self._diverged():
            self.save_checkpoint()
        self._last_log = -math.inf  # the last progress line is always logged
        self.write_stats(add_history=self.last_loss is not None or self._loss_steps > 0)
        self._log_trims(final=True)
        self.replay.close()


def setup_logging(run_dir: Path | None = None, level: int = logging.INFO) -> None:
    """Progress lines to stderr and to <run>/logs/learner.log."""
    root = logging.getLogger("learner")
    root.setLevel(level)
    formatter = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
    if not any(isinstance(h, logging.StreamHandler) for h in root.handlers):
        stream = logging.StreamHandler()
        stream.setFormatter(formatter)
        root.addHandler(stream)
    if run_dir is not None:
        run = RunFolder(run_dir)
        run.logs.mkdir(parents=True, exist_ok=True)
        # Bounded for week-long runs: one full file kept beside the one being written.
        file_handler = logging.handlers.RotatingFileHandler(
            run.learner_log, maxBytes=LOG_FILE_BYTES, backupCount=1
        )
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
