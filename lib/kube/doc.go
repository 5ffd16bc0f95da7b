// Package kube makes the Kubernetes client the actions use, from the
// settings in config.Config, and keeps one per settings in the warm process.
package kube
