//go:build tools

// Package tools records what ../build compiles: kube-apiserver's main package, so that `go mod tidy`
// keeps the pin direct. The replace block pins each k8s.io staging module to the v0 release that
// matches k8s.io/kubernetes, as every module importing k8s.io/kubernetes must.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
