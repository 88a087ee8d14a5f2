"""`python -m learner --game GAME [--data-dir DIR] [--config FILE.toml] [--lr 0.02 ...]`.

Runs until Ctrl-C or SIGTERM (then publishes and checkpoints the last steps) or `--max-steps`.
"""

from __future__ import annotations

import signal
import sys
import threading

from learner.config import ConfigError, parse_args


def main(argv: list[str] | None = None) -> int:
    try:
        config = parse_args(argv)
    except ConfigError as error:
        print(f"learner: {error}", file=sys.stderr)
        return 2
    from learner.run_lock import RunInUse, hold_run_lock
    from learner.train import Trainer, setup_logging

    try:
        lock = hold_run_lock(config.run_dir)  # noqa: F841 - held until the process ends
    except RunInUse as error:
        print(f"learner: {error}", file=sys.stderr)
        return 2
    setup_logging(config.run_dir)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        trainer = Trainer(config)
    except ConfigError as error:  # a setting this machine cannot follow, e.g. --device cuda
        print(f"learner: {error}", file=sys.stderr)
        return 2
    trainer.run(stop)
    return 1 if trainer.diverged_at is not None else 0


if __name__ == "__main__":
    sys.exit(main())
