// Package kube makes the Kubernetes client the actions use, from the
// settings in config.Config, and keeps one per settings in the warm process;
// it also maps the API server's errors to the deployer's faults, and names
// the labels of the objects the deployer makes.
package kube
