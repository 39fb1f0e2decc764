"""Client for the Pylon service. The public API lives in `pylon_client.v1`."""

__version__ = "2.4.0"
