"""Learner: PyTorch training from replay.db, atomic ONNX publishing, checkpoints, stats."""
