//go:build tools

// Package tools records what ../build compiles, so that `go mod tidy` keeps both pins direct: the
// provider's main package, and the SDK module it is built with. The provider's own go.mod points
// the SDK at its monorepo checkout (a replace, which a module cache copy lacks); the build uses
// the released SDK pinned here instead.
package tools

import (
	_ "github.com/pulumi/pulumi-kubernetes/provider/v4/cmd/pulumi-resource-kubernetes"
	_ "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
)
