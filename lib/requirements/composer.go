package requirements

import "strings"

// checkComposerJSON validates a composer.json: one JSON object whose
// repositories do not read the local disk. Repositories of type "path" and
// "artifact" are local folders by definition; other types are refused when
// their url is a local path or a file: URL.
func checkComposerJSON(name string, data []byte) error {
	root, err := parseJSONObject(name, data)
	if err != nil {
		return err
	}
	for _, m := range root.Object {
		if m.Key != "repositories" {
			continue
		}
		var entries []*jsonValue
		switch {
		case m.Value.IsArray:
			entries = m.Value.Array
		case m.Value.IsObj: // composer also accepts repositories keyed by name
			for _, e := range m.Value.Object {
				entries = append(entries, e.Value)
			}
		default:
			return lineError(name, m.Line, `"repositories" must be an array or an object, not %s`, jsonKind(m.Value))
		}
		for _, repo := range entries {
			if err := checkComposerRepository(name, repo); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkComposerRepository(name string, repo *jsonValue) error {
	if !repo.IsObj {
		// {"packagist.org": false} switches the default repository off.
		if b, ok := repo.Literal.(bool); ok && !b {
			return nil
		}
		return lineError(name, repo.Line, "a repository must be an object, not %s", jsonKind(repo))
	}
	if typ := repo.Get("type"); typ != nil && typ.IsStr {
		switch t := strings.ToLower(typ.String); t {
		case "path", "artifact":
			return lineError(name, typ.Line, "repositories of type %q are not allowed (they read local folders)", t)
		}
	}
	if u := repo.Get("url"); u != nil && u.IsStr && isLocalSpec(u.String) {
		return lineError(name, u.Line, "repository url %s is a local path; only remote repositories are allowed", quote(u.String))
	}
	return nil
}
