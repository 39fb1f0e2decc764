"""The v1 API's models and responses (what `client.v1` returns), under the published client's names."""

from pylon_client import v1 as _v1
from pylon_client.v1 import *  # noqa: F403 (the same names, by design)

__all__ = list(_v1.__all__)
