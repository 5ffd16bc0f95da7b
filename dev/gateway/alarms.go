package gateway

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The alarms package, as OpenWhisk's alarms provider installs it: shared,
// in the namespace whisk.system, whatever the system namespace is called.
const (
	alarmsNamespace = "whisk.system"
	alarmsPackage   = "alarms"
)

// addAlarms installs the package /whisk.system/alarms and its feeds: alarm
// (cron, trigger_payload, startDate, stopDate), interval (minutes,
// trigger_payload, startDate, stopDate) and once (date, trigger_payload).
// They run in the gateway, not in a process.
func (g *Gateway) addAlarms() {
	pkg := newEntity(alarmsNamespace, alarmsPackage)
	pkg.Publish, pkg.Annotations = true, keyValues{{"description", "Alarms and periodic utility"}}
	g.store.packages["/"+alarmsNamespace+"/"+alarmsPackage] = &packageDoc{entity: pkg, Parameters: keyValues{}, Binding: map[string]any{}}
	for _, feed := range []string{"alarm", "interval", "once"} {
		q := qname{ns: alarmsNamespace, pkg: alarmsPackage, name: feed}
		e := newEntity(q.path(), feed)
		e.Publish, e.Annotations = true, keyValues{{"feed", true}, {"description", "Fire a trigger when the " + feed + " occurs"}}
		g.store.actions[q.String()] = &action{
			q:   q,
			doc: actionDoc{entity: e, Exec: actionExec{Kind: "builtin"}, Parameters: keyValues{}, Limits: defaultLimits},
			builtin: func(inv invocation) map[string]any {
				result, err := g.alarmFeed(feed, inv.params)
				if err != nil {
					return map[string]any{"error": err.Error()}
				}
				return result
			},
		}
	}
}

// alarmFeed serves one lifecycle event of an alarm feed, as the alarms
// provider does: CREATE starts firing triggerName on the schedule, as the
// holder of authKey, which must own the trigger; DELETE stops; READ shows
// the alarm; UPDATE replaces it.
func (g *Gateway) alarmFeed(feed string, p map[string]any) (map[string]any, error) {
	event := strings.ToUpper(str(p["lifecycleEvent"]))
	authKey := str(p["authKey"])
	id, secret, _ := strings.Cut(authKey, ":")
	ns, ok := g.subjects.namespace(id, secret)
	if !ok {
		return nil, fmt.Errorf("the authKey is not a valid key")
	}
	tq, err := parseQName(str(p["triggerName"]), ns)
	if err != nil || tq.pkg != "" {
		return nil, fmt.Errorf("triggerName %q is not a trigger name", str(p["triggerName"]))
	}
	if tq.ns == "_" {
		tq.ns = ns
	}
	if tq.ns != ns {
		return nil, fmt.Errorf("the authKey is not authorized for trigger %s", tq)
	}
	key := "alarm:" + tq.String()
	j, exists := g.schedules.get(key)
	switch event {
	case "CREATE", "UPDATE":
		if event == "CREATE" && exists {
			return nil, fmt.Errorf("trigger %s already has an alarm", tq)
		}
		if event == "UPDATE" && !exists {
			return nil, fmt.Errorf("trigger %s has no alarm", tq)
		}
		if _, ok := g.triggerWithRules(tq.ns, tq.name); !ok {
			return nil, fmt.Errorf("trigger %s does not exist", tq)
		}
		j, err := g.alarmJob(feed, p, func(payload map[string]any) {
			if _, found := g.fire(tq.ns, tq.name, payload, authKey); !found {
				// The provider disables an alarm whose trigger is gone.
				g.schedules.set(key, nil)
			}
		})
		if err != nil {
			return nil, err
		}
		g.schedules.set(key, j)
		return map[string]any{"status": "success"}, nil
	case "DELETE":
		if !exists {
			return nil, fmt.Errorf("trigger %s has no alarm", tq)
		}
		g.schedules.set(key, nil)
		return map[string]any{"status": "success"}, nil
	case "READ":
		if !exists {
			return nil, fmt.Errorf("trigger %s has no alarm", tq)
		}
		return map[string]any{"config": j.config, "status": map[string]any{"active": "true"}}, nil
	default:
		return nil, fmt.Errorf("lifecycleEvent %q is not supported: CREATE, READ, UPDATE or DELETE", event)
	}
}

// alarmJob reads the parameters of a feed into a schedule that calls fire
// with the trigger payload.
func (g *Gateway) alarmJob(feed string, p map[string]any, fire func(map[string]any)) (*job, error) {
	payload, err := triggerPayload(p["trigger_payload"])
	if err != nil {
		return nil, err
	}
	j := &job{config: map[string]any{"name": feed, "payload": payload}}
	if j.start, err = alarmDate(p, "startDate"); err != nil {
		return nil, err
	}
	if j.stop, err = alarmDate(p, "stopDate"); err != nil {
		return nil, err
	}
	now := time.Now()
	if !j.stop.IsZero() && (j.stop.Before(now) || (!j.start.IsZero() && !j.stop.After(j.start))) {
		return nil, fmt.Errorf("stopDate must be in the future and after startDate")
	}
	switch feed {
	case "alarm":
		cronExpr := str(p["cron"])
		if cronExpr == "" {
			return nil, fmt.Errorf("the alarm feed needs a cron parameter")
		}
		if j.sched, err = parseSchedule(cronExpr, g.minSchedule); err != nil {
			return nil, err
		}
		j.config["cron"] = cronExpr
	case "interval":
		minutes, ok := wholeNumber(p["minutes"])
		if !ok || minutes < 1 {
			return nil, fmt.Errorf("the interval feed needs minutes, a whole number of at least 1")
		}
		start := j.start
		if start.IsZero() {
			start = now
		}
		j.sched = every{start: start, period: time.Duration(minutes) * time.Minute}
		j.config["minutes"] = minutes
	case "once":
		date, err := alarmDate(p, "date")
		if err != nil {
			return nil, err
		}
		if date.IsZero() || date.Before(now) {
			return nil, fmt.Errorf("the once feed needs a date in the future")
		}
		j.sched = at{date}
		j.config["date"] = date.UTC().Format(time.RFC3339Nano)
	}
	j.fire = func() { fire(payload) }
	return j, nil
}

// triggerPayload reads trigger_payload: an object, or a string holding one;
// any other string is {"payload": it}, as the provider passes it on.
func triggerPayload(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return x, nil
	case string:
		var m map[string]any
		if json.Unmarshal([]byte(x), &m) == nil && m != nil {
			return m, nil
		}
		return map[string]any{"payload": x}, nil
	default:
		return nil, fmt.Errorf("trigger_payload must be an object")
	}
}

// alarmDate reads a date parameter: milliseconds since the epoch, or an
// RFC 3339 time. Absent is the zero time.
func alarmDate(p map[string]any, name string) (time.Time, error) {
	switch x := p[name].(type) {
	case nil:
		return time.Time{}, nil
	case float64:
		return time.UnixMilli(int64(x)), nil
	case string:
		if ms, err := strconv.ParseInt(x, 10, 64); err == nil {
			return time.UnixMilli(ms), nil
		}
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s %q is not a date: %w", name, x, err)
		}
		return t, nil
	default:
		return time.Time{}, fmt.Errorf("%s must be a date", name)
	}
}

// wholeNumber reads a number given as a JSON number or a string.
func wholeNumber(v any) (int, bool) {
	switch x := v.(type) {
	case float64:
		return int(x), x == float64(int(x))
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// str returns v if it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return s
}
