"""Errors caused by user input, reported by the tools as one line."""


class ConfigError(KeyError):
    """A config key or value that cannot work; the message names the key and
    the fix. A ``KeyError`` whose message is printed as is (not repr'd)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''
