package userenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// decodePairs reads an env list as OpenServerless stores it, an array of
// {"key": …, "value": …}, or an object of keys and values. A missing or null
// list is empty. String values are taken as they are, numbers and booleans
// as their JSON text; null values, and objects or arrays as values, are left
// out. Its errors describe the shape, never a value.
func decodePairs(raw json.RawMessage) (map[string]string, error) {
	out := map[string]string{}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return out, nil
	}
	dec := func(data []byte, v any) error {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		return d.Decode(v)
	}
	switch raw[0] {
	case '[':
		var list []map[string]any
		if err := dec(raw, &list); err != nil {
			return nil, errors.New("an env list holds something other than objects")
		}
		for i, pair := range list {
			key, ok := pair["key"].(string)
			if !ok || key == "" {
				return nil, fmt.Errorf("entry %d of an env list has no key", i)
			}
			if v, ok := scalar(pair["value"]); ok {
				out[key] = v
			}
		}
	case '{':
		var m map[string]any
		if err := dec(raw, &m); err != nil {
			return nil, errors.New("an env object cannot be read")
		}
		for key, value := range m {
			if v, ok := scalar(value); ok && key != "" {
				out[key] = v
			}
		}
	default:
		return nil, errors.New("an env is neither a list nor an object")
	}
	return out, nil
}

// scalar is the text of a string, number or boolean value.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	default:
		return "", false
	}
}
