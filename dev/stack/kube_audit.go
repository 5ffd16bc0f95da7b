package stack

import (
	"fmt"
	"os"
	"path/filepath"
)

// auditPolicy records every request at level Metadata (user, verb,
// resource, subresource, namespace, name; no bodies), once per request.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
`

// writeAuditPolicy writes the audit policy into dir and returns its path.
func writeAuditPolicy(dir string) (string, error) {
	path := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(path, []byte(auditPolicy), 0o600); err != nil {
		return "", fmt.Errorf("writing the audit policy: %w", err)
	}
	return path, nil
}
