//go:build tools

// Package tools records what ./build compiles, so that `go mod tidy` keeps both pins direct:
// the CLI's main package, and the SDK package whose Version the build stamps.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
)
