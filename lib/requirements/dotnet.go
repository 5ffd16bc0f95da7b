package requirements

import "strings"

// checkProjectJSON validates a project.json: one JSON object whose
// dependencies (at the top and under each framework) are version strings or
// objects that do not reference a local project: neither a "path" nor
// "target": "project", which both resolve to folders beside the file.
func checkProjectJSON(name string, data []byte) error {
	root, err := parseJSONObject(name, data)
	if err != nil {
		return err
	}
	return checkDotnetNode(name, root)
}

// checkDotnetNode finds "dependencies" and "tools" maps at any depth, so
// frameworks.<tfm>.dependencies is covered with the top-level map.
func checkDotnetNode(name string, v *jsonValue) error {
	for _, m := range v.Object {
		if m.Key == "dependencies" || m.Key == "tools" {
			if err := checkDotnetDependencies(name, m); err != nil {
				return err
			}
			continue
		}
		if m.Value.IsObj {
			if err := checkDotnetNode(name, m.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkDotnetDependencies(name string, deps jsonMember) error {
	if !deps.Value.IsObj {
		return lineError(name, deps.Line, "%q must be an object mapping package names to versions, not %s", deps.Key, jsonKind(deps.Value))
	}
	for _, dep := range deps.Value.Object {
		switch {
		case dep.Value.IsStr:
		case dep.Value.IsObj:
			if p := dep.Value.Get("path"); p != nil {
				return lineError(name, dep.Line, "%s %q: path references are not allowed", deps.Key, dep.Key)
			}
			if t := dep.Value.Get("target"); t != nil && t.IsStr && strings.EqualFold(t.String, "project") {
				return lineError(name, dep.Line, `%s %q: project references ("target": "project") are not allowed`, deps.Key, dep.Key)
			}
		default:
			return lineError(name, dep.Line, "%s %q: expected a version string or an object, not %s", deps.Key, dep.Key, jsonKind(dep.Value))
		}
	}
	return nil
}
