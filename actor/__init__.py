"""Actor: batched MCTS self-play with ONNX Runtime, replay writer, model reload, HTTP API."""
