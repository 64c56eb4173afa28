"""Where terrane keeps its own files in a project, and the names of the settings that move its state elsewhere."""

STATE_DIR = ".terrane"
"""Under the project root: the file backend's state, the passphrase, locks and the drift history."""
PASSPHRASE_FILE = "passphrase"
BACKEND_ENV = "TERRANE_BACKEND_URL"
SECRETS_PROVIDER_ENV = "TERRANE_SECRETS_PROVIDER"
