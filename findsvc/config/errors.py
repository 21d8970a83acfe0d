"""What bad configuration looks like to the caller: one error type and one exit code."""

# The exit code for bad configuration, whichever command meets it.
EXIT_CONFIG = 2


class ConfigError(Exception):
    """Bad configuration: the message is one line, safe to print."""
