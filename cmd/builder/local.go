package main

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// localStack is what a running local stack (./task up) says of itself in
// $DEPLOYER_LOCAL/stack.json; nil when none is up.
type localStack struct {
	Kubeconfig string            `json:"kubeconfig"`
	Namespace  string            `json:"namespace"`
	Registry   string            `json:"registry"`
	RegUser    string            `json:"registry_user"`
	RegPass    string            `json:"registry_password"`
	Tokens     map[string]string `json:"tokens"`
	Sources    map[string]string `json:"sources"`
}

func local() *localStack {
	dir := os.Getenv("DEPLOYER_LOCAL")
	if dir == "" {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "ready")); err != nil {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "stack.json"))
	if err != nil {
		return nil
	}
	var l localStack
	if json.Unmarshal(b, &l) != nil {
		return nil
	}
	return &l
}

// userOf returns the local user whose token is token.
func (l *localStack) userOf(token string) string {
	for u, t := range l.Tokens {
		if t == token {
			return u
		}
	}
	return ""
}
