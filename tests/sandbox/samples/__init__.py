"""Sample "user" code for the sandbox tests: neither stdlib nor engine, so the guard
treats it as workflow code. A trailing ``# mark: CODE`` comment names the rule a
line breaks; ``lint-only`` / ``runtime-only`` say which checker cannot see it.
"""
