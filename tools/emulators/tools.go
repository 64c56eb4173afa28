//go:build tools

// Package tools records what ./install builds, so that `go mod tidy` keeps the pin direct.
package tools

import (
	_ "github.com/fsouza/fake-gcs-server"
)
