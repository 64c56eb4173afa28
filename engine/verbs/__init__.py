"""What each verb of the Engine does, one module per verb; ``terrane.engine.api`` is the door to them.

Each function here takes what it works with (the project, a driver) and returns
a typed result of ``terrane.engine.results``; none prints, and none knows the CLI.
"""
