"""The `litmol` command line: a root parser (`main.py`), shared options and validators
(`common.py`), and one module per command group, each owning its arguments and handlers."""
