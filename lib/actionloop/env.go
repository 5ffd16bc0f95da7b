package actionloop

import (
	"encoding/json"
	"os"
	"strings"
)

// envPrefix is what the runtime puts before an envelope key to name its
// environment variable.
const envPrefix = "__OW_"

// activationEnv sets the __OW_* variables of one activation and takes back
// those of the previous one, so nothing (an API key above all) leaks from one
// activation to the next. Variables the process started with (the container
// sets __OW_API_HOST, for one) are restored rather than removed.
type activationEnv struct {
	initial map[string]string // __OW_* variables present when serving began
	names   []string          // variables the current activation set
}

func newActivationEnv() *activationEnv {
	e := &activationEnv{initial: map[string]string{}}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, envPrefix) {
			e.initial[k] = v
		}
	}
	return e
}

// set replaces the previous activation's variables with those of msg: one per
// top-level key except "value". Strings are set as they are; other values as
// their JSON text (some platforms send the deadline as a number); null is
// left unset.
func (e *activationEnv) set(msg map[string]any) {
	e.clear()
	for k, v := range msg {
		if k == "value" || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				continue
			}
			s = string(b)
		}
		name := envPrefix + strings.ToUpper(k)
		// A key that cannot name a variable (it holds '=' or NUL) is skipped.
		if os.Setenv(name, s) == nil {
			e.names = append(e.names, name)
		}
	}
}

// clear takes back the variables the last activation set.
func (e *activationEnv) clear() {
	for _, name := range e.names {
		if v, ok := e.initial[name]; ok {
			os.Setenv(name, v)
		} else {
			os.Unsetenv(name)
		}
	}
	e.names = e.names[:0]
}
