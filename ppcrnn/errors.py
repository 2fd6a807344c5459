"""Exceptions with messages that name the file, line or config key at fault."""


class ConfigError(ValueError):
    """A config value is missing, unknown or of the wrong type; the message names the key path."""


class DataError(RuntimeError):
    """A dataset cannot produce any usable sample; the message names the file."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or inconsistent; the message names the files."""


class TrainingDiverged(RuntimeError):
    """Raised after `max_nan_steps` consecutive non-finite losses."""
