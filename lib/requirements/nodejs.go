package requirements

import "slices"

// npmDependencyMaps are the package.json fields that map package names to
// version specs.
var npmDependencyMaps = []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}

// checkPackageJSON validates a package.json: one JSON object whose dependency
// maps give each package a version spec string that is not a local path or a
// file:/link: spec. The overrides tree is held to the same rule, since its
// values are specs too, and workspaces (local folders) are refused.
func checkPackageJSON(name string, data []byte) error {
	root, err := parseJSONObject(name, data)
	if err != nil {
		return err
	}
	for _, m := range root.Object {
		if m.Key == "workspaces" {
			return lineError(name, m.Line, `"workspaces" is not allowed: workspaces are local folders`)
		}
		if !slices.Contains(npmDependencyMaps, m.Key) {
			continue
		}
		if !m.Value.IsObj {
			return lineError(name, m.Line, "%q must be an object mapping package names to versions, not %s", m.Key, jsonKind(m.Value))
		}
		for _, dep := range m.Value.Object {
			if !dep.Value.IsStr {
				return lineError(name, dep.Line, "%s %q: the version must be a string, not %s", m.Key, dep.Key, jsonKind(dep.Value))
			}
			if isLocalSpec(dep.Value.String) {
				return lineError(name, dep.Line, "%s %q: local paths (file:, link:, ./, ../, /, ~/) are not allowed", m.Key, dep.Key)
			}
		}
	}
	for _, m := range root.Object {
		if m.Key == "overrides" {
			if err := checkNpmOverrides(name, "overrides", m.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkNpmOverrides walks the overrides tree, where a string is a spec and an
// object nests overrides for a dependency's own dependencies.
func checkNpmOverrides(name, path string, v *jsonValue) error {
	for _, m := range v.Object {
		switch {
		case m.Value.IsObj:
			if err := checkNpmOverrides(name, path+"."+m.Key, m.Value); err != nil {
				return err
			}
		case m.Value.IsStr && isLocalSpec(m.Value.String):
			return lineError(name, m.Line, "%s %q: local paths (file:, link:, ./, ../, /, ~/) are not allowed", path, m.Key)
		}
	}
	return nil
}
