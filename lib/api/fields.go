package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// The limits of the request fields, as capabilities reports them.
const (
	// DefaultLogTail and MaxLogTail bound ?tail= of a build's log.
	DefaultLogTail = 200
	MaxLogTail     = 5000
	// DefaultMaxAgeHours is the age past which cleanup deletes finished builds.
	DefaultMaxAgeHours = 24
	// MaxMaxAgeHours is a year: anything longer is surely a mistake.
	MaxMaxAgeHours = 8760
)

// RequireAny refuses a request with none of the named fields: a body that
// was not a JSON object, or an empty one.
func RequireAny(r webaction.Request, names ...string) error {
	if !r.HasAny(names...) {
		return fault.New(fault.Invalid, "NoPayload", "No JSON payload provided for build.")
	}
	return nil
}

// BuildID is the id in the path (build/<id>), else the id field.
func BuildID(r webaction.Request) (string, error) {
	if seg := r.PathSegments(); len(seg) > 0 {
		return seg[0], nil
	}
	if id := r.String("id"); id != "" {
		return id, nil
	}
	return "", fault.New(fault.Invalid, "MissingID", "No build id provided.")
}

// Retry reads retry: true or false, true when absent.
func Retry(r webaction.Request) (bool, error) {
	v := r.String("retry")
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fault.New(fault.Invalid, "InvalidRetry", "retry must be true or false")
	}
	return b, nil
}

// Tail reads ?tail=N of a log: 1 to MaxLogTail, DefaultLogTail when absent.
func Tail(r webaction.Request) (int, error) {
	v := r.String("tail")
	if v == "" {
		return DefaultLogTail, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxLogTail {
		return 0, fault.New(fault.Invalid, "InvalidTail", "tail must be a whole number from 1 to %d", MaxLogTail)
	}
	return n, nil
}

// Since reads ?since=<RFC 3339 time> of a log; the zero time when absent.
func Since(r webaction.Request) (time.Time, error) {
	v := r.String("since")
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fault.New(fault.Invalid, "InvalidSince", "since must be an RFC 3339 time, such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

// MaxAge reads max_age_hours as a duration (see ParseMaxAgeHours).
func MaxAge(r webaction.Request) (time.Duration, error) {
	v, present := r.Field("max_age_hours")
	hours, err := ParseMaxAgeHours(v, present)
	return time.Duration(hours) * time.Hour, err
}

// ParseMaxAgeHours reads max_age_hours: absent means DefaultMaxAgeHours; a
// non-negative whole number, as a JSON number or a numeric string (the
// upstream task sends "24"), up to MaxMaxAgeHours.
func ParseMaxAgeHours(v any, present bool) (int, error) {
	if !present || v == nil {
		return DefaultMaxAgeHours, nil
	}
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, badMaxAge(v)
		}
		n = f
	case int:
		n = float64(x)
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, badMaxAge(v)
		}
		n = float64(i)
	default:
		return 0, badMaxAge(v)
	}
	if n < 0 || n > MaxMaxAgeHours || n != float64(int(n)) {
		return 0, badMaxAge(v)
	}
	return int(n), nil
}

func badMaxAge(v any) error {
	return fault.New(fault.Invalid, "InvalidMaxAge", "max_age_hours must be a whole number of hours from 0 to %d, not %v", MaxMaxAgeHours, v)
}
