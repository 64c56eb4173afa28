//go:build tools

// Package tools records what ../build compiles: the main packages of kube-apiserver and of
// kube-controller-manager (whose namespace controller finalizes deleted namespaces), so that
// `go mod tidy` keeps the pin direct. The replace block pins each k8s.io staging module to the v0
// release that matches k8s.io/kubernetes, as every module importing k8s.io/kubernetes must.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
