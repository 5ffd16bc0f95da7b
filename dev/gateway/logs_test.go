package gateway

import (
	"testing"
	"time"
)

// takeWithin runs l.take and fails the test if it has not returned within
// limit.
func takeWithin(t *testing.T, l *processLogs, limit time.Duration) []string {
	t.Helper()
	done := make(chan []string, 1)
	go func() { done <- l.take() }()
	select {
	case lines := <-done:
		return lines
	case <-time.After(limit):
		t.Fatalf("take still waiting after %s", limit)
		return nil
	}
}

// Neither stream delivers (the process was killed before its sentinels):
// take gives up on both once its wait is over, not on the first only.
func TestTakeGivesUpOnStreamsThatNeverDeliver(t *testing.T) {
	l := &processLogs{batches: [2]chan []logLine{make(chan []logLine), make(chan []logLine)}}
	if lines := takeWithin(t, l, 10*time.Second); len(lines) != 0 {
		t.Fatalf("lines %q, want none", lines)
	}
}

// Only stderr delivers, after stdout's wait: its lines still count.
func TestTakeKeepsTheStreamThatDelivers(t *testing.T) {
	l := &processLogs{batches: [2]chan []logLine{make(chan []logLine), make(chan []logLine, 1)}}
	l.batches[1] <- []logLine{{time.Now(), "stderr: late"}}
	lines := takeWithin(t, l, 10*time.Second)
	if len(lines) != 1 || lines[0] != "stderr: late" {
		t.Fatalf("lines %q, want the stderr line", lines)
	}
}

// A stopping process's logs have no pipes: take answers at once.
func TestTakeOfAStoppingProcessAnswersAtOnce(t *testing.T) {
	if lines := takeWithin(t, &processLogs{}, time.Second); len(lines) != 0 {
		t.Fatalf("lines %q, want none", lines)
	}
}
