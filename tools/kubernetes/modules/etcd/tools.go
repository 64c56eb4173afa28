//go:build tools

// Package tools records what ../build compiles: etcd's main package, so that `go mod tidy` keeps the pin direct.
package tools

import _ "go.etcd.io/etcd/server/v3"
