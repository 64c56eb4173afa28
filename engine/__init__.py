"""terrane's engine: projects, offline plans, stack operations, drift, account checks and the CLI."""
