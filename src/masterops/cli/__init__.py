"""The ``ops`` command line: parse, call an operation, render a table or JSON."""
