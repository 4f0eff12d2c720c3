"""Entry-point wrapper of the command-line tools."""
import sys
from typing import Any, Callable

from debiascls.datasets.base_dataset import DatasetError
from debiascls.engine.checkpoint import UnsafeCheckpointError
from debiascls.utils import ConfigError

#: Errors caused by the user's input: printed as one line, no traceback.
USER_ERRORS = (ConfigError, DatasetError, UnsafeCheckpointError,
               FileNotFoundError)


def run_tool(main: Callable[[], Any]) -> int:
    """Run a tool's ``main``; a user error (bad config key, missing or
    corrupt data, unsafe or missing checkpoint) is printed as
    ``error: <message>`` and gives exit status 1. Other exceptions are bugs
    and keep their traceback."""
    try:
        main()
    except USER_ERRORS as e:
        message = str(e).strip()
        # DataLoader workers re-raise with the worker's traceback appended;
        # the first line holds the message.
        if 'Original Traceback' in message:
            message = message.splitlines()[-1].split(': ', 1)[-1]
        print(f'error: {message}', file=sys.stderr)
        return 1
    return 0
