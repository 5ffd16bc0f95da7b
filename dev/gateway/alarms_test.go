package gateway

import (
	"net/http"
	"testing"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// createAlarm does what wskdeploy and wsk do for a trigger with a feed:
// create the trigger, then invoke the feed with CREATE.
func createAlarm(t *testing.T, c *whisk.Client, token, trigger, feed string, params map[string]any) (any, *http.Response, error) {
	t.Helper()
	_, _, err := c.Triggers.Insert(&whisk.Trigger{Name: trigger, Annotations: whisk.KeyValueArr{{Key: "feed", Value: "/whisk.system/alarms/" + feed}}}, true)
	require.NoError(t, err)
	p := map[string]any{"lifecycleEvent": "CREATE", "triggerName": "/whisk-system/" + trigger, "authKey": token}
	for k, v := range params {
		p[k] = v
	}
	ns := c.Namespace
	c.Namespace = "whisk.system"
	defer func() { c.Namespace = ns }()
	return c.Actions.Invoke("alarms/"+feed, p, true, false)
}

// activationsOf lists the activations of one entity.
func activationsOf(t *testing.T, c *whisk.Client, name string) []whisk.Activation {
	t.Helper()
	l, _, err := c.Activations.List(&whisk.ActivationListOptions{Name: name, Docs: true, Limit: 200})
	require.NoError(t, err)
	return l
}

// An alarm fires its trigger on its cron schedule with its payload, and its
// rule's action runs as the trigger's namespace; DELETE stops it.
func TestAlarmFiresTheRule(t *testing.T) {
	g, system, _ := apiGateway(t, Options{MinSchedule: time.Second})
	c := client(t, g, system)
	deployEcho(t, c, nil)
	_, resp, err := createAlarm(t, c, system, "every-second", "alarm", map[string]any{
		"cron": "* * * * * *", "trigger_payload": map[string]any{"max_age_hours": 24},
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, _, err = c.Rules.Insert(&whisk.Rule{Name: "r", Trigger: "every-second", Action: "builder/echo"}, false)
	require.NoError(t, err)

	require.Eventually(t, func() bool { return len(activationsOf(t, c, "echo")) >= 2 }, 10*time.Second, 50*time.Millisecond)
	a := activationsOf(t, c, "echo")[0]
	body := echoOf(t, a.Response.Result)
	assert.Equal(t, "whisk-system", resultMap(t, body["env"])["__OW_NAMESPACE"])
	assert.NotNil(t, resultMap(t, body["params"])["max_age_hours"])
	assert.NotEmpty(t, a.Cause, "caused by the trigger's activation")

	c.Namespace = "whisk.system"
	_, _, err = c.Actions.Invoke("alarms/alarm", map[string]any{"lifecycleEvent": "DELETE", "triggerName": "/whisk-system/every-second", "authKey": system}, true, true)
	require.NoError(t, err)
	c.Namespace = "_"
	time.Sleep(1500 * time.Millisecond) // an activation started before DELETE may still end
	n := len(activationsOf(t, c, "every-second"))
	time.Sleep(2500 * time.Millisecond)
	assert.Equal(t, n, len(activationsOf(t, c, "every-second")), "the trigger fires no more once its alarm is deleted")
}

// The feeds refuse what the alarms provider refuses, with the reason.
func TestAlarmFeedRefusals(t *testing.T) {
	g, system, devel := apiGateway(t, Options{})
	c := client(t, g, system)
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name, feed string
		params     map[string]any
		reason     string
	}{
		{"no cron", "alarm", map[string]any{}, "needs a cron parameter"},
		{"bad cron", "alarm", map[string]any{"cron": "every day"}, "not valid"},
		{"more often than a minute", "alarm", map[string]any{"cron": "*/5 * * * * *"}, "more often than every 1m0s"},
		{"stop date past", "alarm", map[string]any{"cron": "0 * * * *", "stopDate": past}, "stopDate"},
		{"no minutes", "interval", map[string]any{}, "minutes"},
		{"zero minutes", "interval", map[string]any{"minutes": 0}, "minutes"},
		{"once in the past", "once", map[string]any{"date": past}, "date in the future"},
		{"someone else's key", "alarm", map[string]any{"cron": "0 * * * *", "authKey": devel}, "not authorized"},
		{"not a key", "alarm", map[string]any{"cron": "0 * * * *", "authKey": "a:b"}, "not a valid key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, resp, err := createAlarm(t, c, system, "t", tt.feed, tt.params)
			require.Error(t, err)
			assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
			assert.Contains(t, resultMap(t, resultMap(t, resultMap(t, res)["response"])["result"])["error"], tt.reason)
		})
	}
	t.Run("accepted", func(t *testing.T) {
		_, resp, err := createAlarm(t, c, system, "hourly", "alarm", map[string]any{"cron": "0 * * * *", "startDate": future})
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		_, resp, err = createAlarm(t, c, system, "hourly", "alarm", map[string]any{"cron": "0 * * * *"})
		require.Error(t, err, "a second CREATE for the same trigger")
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
		_, resp, err = createAlarm(t, c, system, "every-10", "interval", map[string]any{"minutes": 10})
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
}

// An action annotated with cron is invoked on that schedule as its own
// namespace, as OpenServerless' scheduler invokes it; removing the
// annotation stops it.
func TestCronAnnotation(t *testing.T) {
	g, system, _ := apiGateway(t, Options{MinSchedule: time.Second})
	c := client(t, g, system)
	deployEcho(t, c, whisk.KeyValueArr{{Key: "cron", Value: "* * * * * *"}})

	require.Eventually(t, func() bool { return len(activationsOf(t, c, "echo")) >= 2 }, 10*time.Second, 50*time.Millisecond)
	a := activationsOf(t, c, "echo")[0]
	body := echoOf(t, a.Response.Result)
	assert.Equal(t, "whisk-system", resultMap(t, body["env"])["__OW_NAMESPACE"])
	assert.Equal(t, "builds", resultMap(t, body["params"])["namespace"], "with the bound inputs")

	// An update without annotations keeps them, as the controller's does.
	deployEcho(t, c, whisk.KeyValueArr{{Key: "description", Value: "no schedule"}})
	time.Sleep(1500 * time.Millisecond)
	n := len(activationsOf(t, c, "echo"))
	time.Sleep(2500 * time.Millisecond)
	assert.Equal(t, n, len(activationsOf(t, c, "echo")), "no invocation once the annotation is gone")
}
