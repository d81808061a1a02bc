"""Command-line commands, one module each.

Every module here defines ``register(subparsers)``, which adds its
sub-command and sets ``func`` on the parser to a callable taking
``(args) -> int`` (the exit status). :mod:`bot.cli` finds the modules by
listing this package, so adding a command never touches a shared list.
"""
