package gateway

import (
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser reads cron expressions as the alarms provider does: five
// fields, or six with seconds first, or a descriptor (@hourly, @every 1h).
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseSchedule reads a cron expression, in UTC, refusing one that fires
// more often than every min.
func parseSchedule(expr string, min time.Duration) (cron.Schedule, error) {
	s, err := cronParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("cron pattern %q is not valid: %w", expr, err)
	}
	first := s.Next(time.Now().UTC())
	if gap := s.Next(first).Sub(first); gap < min {
		return nil, fmt.Errorf("cron pattern %q fires every %s, more often than every %s", expr, gap, min)
	}
	return s, nil
}

// every is a fixed period from a start, as an interval alarm fires.
type every struct {
	start  time.Time
	period time.Duration
}

func (e every) Next(t time.Time) time.Time {
	if t.Before(e.start) {
		return e.start
	}
	n := t.Sub(e.start)/e.period + 1
	return e.start.Add(n * e.period)
}

// at fires once.
type at struct{ t time.Time }

func (a at) Next(t time.Time) time.Time {
	if t.Before(a.t) {
		return a.t
	}
	return time.Time{}
}

// schedules runs the gateway's timed work: the alarms of triggers and the
// cron annotations of actions, each in a goroutine of its own until it is
// replaced, removed, past its stop date, or the gateway stops.
type schedules struct {
	g *Gateway

	mu      sync.Mutex
	stopped bool
	jobs    map[string]*job // by "alarm:/ns/trigger" or "cron:/ns/pkg/action"
	wg      sync.WaitGroup
}

// job is one schedule and what it fires.
type job struct {
	sched       cron.Schedule
	start, stop time.Time // zero: no bound
	fire        func()
	config      map[string]any // what a READ of an alarm shows
	quit        chan struct{}
}

func newSchedules(g *Gateway) *schedules {
	return &schedules{g: g, jobs: map[string]*job{}}
}

// set runs j under key, in place of what ran there.
func (s *schedules) set(key string, j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.jobs[key]; old != nil {
		close(old.quit)
		delete(s.jobs, key)
	}
	if s.stopped || j == nil {
		return
	}
	j.quit = make(chan struct{})
	s.jobs[key] = j
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.loop(key, j)
	}()
}

// get returns the job under key.
func (s *schedules) get(key string) (*job, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[key]
	return j, ok
}

func (s *schedules) loop(key string, j *job) {
	now := time.Now().UTC()
	if now.Before(j.start) {
		now = j.start.Add(-time.Nanosecond)
	}
	for {
		next := j.sched.Next(now)
		if next.IsZero() || (!j.stop.IsZero() && next.After(j.stop)) {
			s.remove(key, j)
			return
		}
		timer := time.NewTimer(time.Until(next))
		select {
		case <-j.quit:
			timer.Stop()
			return
		case <-timer.C:
		}
		j.fire()
		now = next
	}
}

// remove drops j if it still runs under key.
func (s *schedules) remove(key string, j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jobs[key] == j {
		delete(s.jobs, key)
	}
}

// stop ends every schedule and waits for their goroutines.
func (s *schedules) stop() {
	s.mu.Lock()
	s.stopped = true
	for key, j := range s.jobs {
		close(j.quit)
		delete(s.jobs, key)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// cronAnnotation serves the cron annotation of an action as OpenServerless'
// scheduler does: it invokes the action on that schedule, as the action's
// own namespace (for the system package, with system scope), with its bound
// parameters. act nil, or without the annotation, ends the schedule.
func (s *schedules) cronAnnotation(name qname, act *action) {
	key := "cron:" + name.String()
	var expr any
	if act != nil {
		expr, _ = act.doc.Annotations.get("cron")
	}
	pattern, _ := expr.(string)
	if pattern == "" {
		s.set(key, nil)
		return
	}
	sched, err := parseSchedule(pattern, s.g.minSchedule)
	if err != nil {
		s.g.logf("action %s: cron annotation ignored: %v", name, err)
		s.set(key, nil)
		return
	}
	s.set(key, &job{sched: sched, fire: func() {
		act, ok := s.g.store.action(name)
		if !ok {
			return
		}
		_, _, err := s.g.run(invocation{act: act, params: s.g.inputsOf(act), namespace: name.ns, key: s.g.keyOf(name.ns)})
		if err != nil {
			s.g.logf("cron annotation of %s: %v", name, err)
		}
	}})
}
