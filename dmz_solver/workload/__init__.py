"""Front-end: turn model files (seed JSON specs, ONNX through TVM) into loop nests."""
