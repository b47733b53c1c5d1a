"""Lets `python -m truyxuat` run the command line."""

from truyxuat.cli import main

main()
