package openwhisk

import (
	"net/http"
	"testing"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deployed trigger, rule and action of the cleanup schedule (manifest.yaml).
const (
	cleanupTrigger = "builder-cleanup-schedule"
	cleanupAction  = "builder/cleanup"
)

// setAlarm replaces the alarm of the cleanup trigger as an operator would:
// the feed's DELETE, then CREATE with the new schedule and payload.
func setAlarm(t *testing.T, cron string, payload map[string]any) {
	t.Helper()
	feed := client(t, systemKey(t), "whisk.system")
	trigger := "/" + env.Gateway.SystemNamespace() + "/" + cleanupTrigger
	_, _, err := feed.Actions.Invoke("alarms/alarm", map[string]any{"lifecycleEvent": "DELETE", "triggerName": trigger, "authKey": systemKey(t)}, true, true)
	require.NoError(t, err)
	_, resp, err := feed.Actions.Invoke("alarms/alarm", map[string]any{
		"lifecycleEvent": "CREATE", "triggerName": trigger, "authKey": systemKey(t), "cron": cron, "trigger_payload": payload,
	}, true, true)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// The alarm of the deployed trigger fires, its rule invokes cleanup with
// system scope and the alarm's payload: every user's finished builds older
// than max_age_hours go, the recent ones stay, and nobody calls the API.
func TestAlarmRunsCleanup(t *testing.T) {
	m := readManifest(t)
	deployed := m.Project.Packages["builder"].Triggers[cleanupTrigger].Inputs
	aliceOld := finishedJob(t, "alice", '6', time.Now().Add(-3*time.Hour))
	bobOld := finishedJob(t, "bob", '7', time.Now().Add(-3*time.Hour))
	aliceRecent := finishedJob(t, "alice", '8', time.Now().Add(-30*time.Minute))

	setAlarm(t, "*/2 * * * * *", map[string]any{"max_age_hours": 1})
	defer setAlarm(t, deployed["cron"].(string), deployed["trigger_payload"].(map[string]any)["value"].(map[string]any))

	require.Eventually(t, func() bool { return !exists(t, aliceOld) && !exists(t, bobOld) }, 30*time.Second, 200*time.Millisecond,
		"the alarm's cleanup deletes every user's old builds")
	assert.True(t, exists(t, aliceRecent), "a build younger than max_age_hours stays")

	c := client(t, systemKey(t), "_")
	runs, _, err := c.Activations.List(&whisk.ActivationListOptions{Name: "cleanup", Docs: true})
	require.NoError(t, err)
	require.NotEmpty(t, runs)
	assert.NotEmpty(t, runs[0].Cause, "caused by the trigger's activation")
	assert.Equal(t, env.Gateway.SystemNamespace(), runs[0].Namespace)
}

// The cron annotation of cleanup is served as OpenServerless' scheduler
// serves it: cleanup runs on that schedule with system scope and its
// default max_age_hours (24).
func TestCronAnnotationRunsCleanup(t *testing.T) {
	old := finishedJob(t, "bob", '9', time.Now().Add(-48*time.Hour))
	recent := finishedJob(t, "bob", 'a', time.Now().Add(-2*time.Hour))

	c := client(t, systemKey(t), "_")
	a, _, err := c.Actions.Get(cleanupAction, false)
	require.NoError(t, err)
	deployed := a.Annotations
	setCron := func(annotations whisk.KeyValueArr) {
		// An update without exec keeps the code, as wsk action update does.
		_, _, err := c.Actions.Insert(&whisk.Action{Name: cleanupAction, Annotations: annotations}, true)
		require.NoError(t, err)
	}
	var every2s whisk.KeyValueArr
	for _, kv := range deployed {
		if kv.Key == "cron" {
			kv.Value = "*/2 * * * * *"
		}
		every2s = append(every2s, kv)
	}
	setCron(every2s)
	defer setCron(deployed)

	require.Eventually(t, func() bool { return !exists(t, old) }, 30*time.Second, 200*time.Millisecond,
		"the scheduled cleanup deletes a build older than 24 hours")
	assert.True(t, exists(t, recent), "a build younger than 24 hours stays")
}
