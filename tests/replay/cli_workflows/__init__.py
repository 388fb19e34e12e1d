"""Sample workflows for the ``replay`` command's and the debugger's tests."""
