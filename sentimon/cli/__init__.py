"""The ``sentimon`` command line."""
