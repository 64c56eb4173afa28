"""The Pulumi program of this project, for plain `pulumi up -s ENV`: terrane's program for environments/ENV.yaml."""

from terrane.engine.entry import run

run()
