"""CPU custom operators compiled on first use (see depthwise_conv.py). Importing this package
compiles nothing; `ppcrnn.ops.depthwise_conv.install(model)` does, once per machine."""
