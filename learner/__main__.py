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
    from learner.train import Trainer, setup_logging

    config.run_dir.mkdir(parents=True, exist_ok=True)
    setup_logging(config.run_dir)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    Trainer(config).run(stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
