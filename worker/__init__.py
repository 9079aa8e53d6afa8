"""The GPU half of schedlab: the model, the scheduler registry and the comparison engine (imports torch)."""
