package actionproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Activation is one request envelope, as the proxy sends it to the action.
type Activation struct {
	// Value holds the activation's parameters; nil sends {}.
	Value      map[string]any
	Namespace  string
	ActionName string
	// APIHost is sent as api_host when set. The OpenWhisk invoker leaves it
	// out and sets __OW_API_HOST in the container's environment instead,
	// which Start's env can mirror.
	APIHost      string
	APIKey       string
	ActivationID string
	// Deadline is when the activation times out; zero leaves it out.
	Deadline time.Time
}

// envelope is the wire form. The invoker sends the deadline as a string of
// milliseconds since the epoch, and leaves out what it does not know (the API
// key of an action annotated provide-api-key=false), so empty fields are
// omitted and the action sees those variables unset.
type envelope struct {
	Value        map[string]any `json:"value"`
	Namespace    string         `json:"namespace,omitempty"`
	ActionName   string         `json:"action_name,omitempty"`
	APIHost      string         `json:"api_host,omitempty"`
	APIKey       string         `json:"api_key,omitempty"`
	ActivationID string         `json:"activation_id,omitempty"`
	Deadline     string         `json:"deadline,omitempty"`
}

// line encodes the activation as the one line written on the action's stdin.
func (a Activation) line() ([]byte, error) {
	e := envelope{
		Value:        a.Value,
		Namespace:    a.Namespace,
		ActionName:   a.ActionName,
		APIHost:      a.APIHost,
		APIKey:       a.APIKey,
		ActivationID: a.ActivationID,
	}
	if e.Value == nil {
		e.Value = map[string]any{}
	}
	if !a.Deadline.IsZero() {
		e.Deadline = strconv.FormatInt(a.Deadline.UnixMilli(), 10)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encoding activation %s: %w", a.ActivationID, err)
	}
	// The proxy removes newlines from the body it forwards; the encoder's
	// only newline is the one that ends the line.
	return buf.Bytes(), nil
}
