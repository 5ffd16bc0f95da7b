package buildstats

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// layerLog is a layer engine build as its Pod logs it: the helper's lines
// around /bin/extend's own, then layerpush's.
const layerLog = `
0|build|layerhelper: running /bin/extend
0.4|build|added 2 packages in 600ms
1.5|build|layerhelper: /bin/extend done
2.25|build|layerhelper: layer written: 1843200 bytes, 412 entries
3|push|layerpush: appending the layer to 127.0.0.1:5000/runtime-nodejs@sha256:ab
4.5|push|layerpush: pushed 127.0.0.1:5000/devel@sha256:cd`

func TestLayerPhases(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	pulled := []Event{
		{Time: t0.Add(-5 * time.Second), Reason: "Scheduled", Message: "Successfully assigned nuvolaris/b to stack-osd1"},
		{Time: t0.Add(-4 * time.Second), Reason: "Pulling", FieldPath: "spec.initContainers{tools}", Message: `Pulling image "127.0.0.1:5000/apache/openserverless-deployer/layer@sha256:ee"`},
		{Time: t0.Add(-4 * time.Second), Reason: "Pulled", FieldPath: "spec.initContainers{tools}", Message: `Successfully pulled image "127.0.0.1:5000/apache/openserverless-deployer/layer@sha256:ee" in 120ms (120ms including waiting). Image size: 4453446 bytes.`},
		{Time: t0.Add(-3 * time.Second), Reason: "Pulling", FieldPath: "spec.initContainers{build}", Message: `Pulling image "127.0.0.1:5000/runtime-nodejs@sha256:ab"`},
		{Time: t0.Add(-1 * time.Second), Reason: "Pulled", FieldPath: "spec.initContainers{build}", Message: `Successfully pulled image "127.0.0.1:5000/runtime-nodejs@sha256:ab" in 1m2.345s (1m2.5s including waiting). Image size: 51234567 bytes.`},
		{Time: t0.Add(-1 * time.Second), Reason: "Started", FieldPath: "spec.initContainers{build}", Message: "Started container build"},
	}
	tests := []struct {
		name   string
		lines  []Line
		events []Event
		want   map[string]time.Duration
	}{
		{"a build whose base is pulled", logAt(layerLog), pulled, map[string]time.Duration{
			BasePulled: time.Minute + 2345*time.Millisecond, Install: 1500 * time.Millisecond,
			LayerWritten: 750 * time.Millisecond, Push: 2250 * time.Millisecond,
		}},
		{"a base already on the node", logAt(layerLog), []Event{
			{Time: t0, Reason: "Pulled", FieldPath: "spec.initContainers{build}", Message: `Container image "127.0.0.1:5000/runtime-nodejs@sha256:ab" already present on machine and can be accessed by the pod`},
		}, map[string]time.Duration{
			BasePulled: 0, Install: 1500 * time.Millisecond, LayerWritten: 750 * time.Millisecond, Push: 2250 * time.Millisecond,
		}},
		{"a pull without its duration counts from Pulling", nil, []Event{
			{Time: t0, Reason: "Pulling", FieldPath: "spec.initContainers{build}"},
			{Time: t0.Add(3 * time.Second), Reason: "Pulled", FieldPath: "spec.initContainers{build}", Message: `Successfully pulled image "x"`},
		}, map[string]time.Duration{BasePulled: 3 * time.Second}},
		{"a failed /bin/extend: no layer, no push", logAt(`
0|build|layerhelper: running /bin/extend
0.5|build|npm ERR! 404 Not Found - GET http://10.213.1.1/left-pad
1|build|layerhelper: /bin/extend: exit status 1`), nil, map[string]time.Duration{}},
		{"no events, no lines", nil, nil, map[string]time.Duration{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, durations(LayerPhases(tt.lines, tt.events)))
		})
	}
}

func TestBasePullStart(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	p, ok := BasePull([]Event{{Time: t0, Reason: "Pulled", FieldPath: "spec.initContainers{build}",
		Message: `Successfully pulled image "x" in 1.5s (1.6s including waiting). Image size: 1 bytes.`}})
	assert.True(t, ok)
	assert.Equal(t, Phase{Name: BasePulled, Start: t0.Add(-1500 * time.Millisecond), Duration: 1500 * time.Millisecond}, p)
	p, ok = BasePull([]Event{{Time: t0, Reason: "Pulled", FieldPath: "spec.initContainers{build}", Message: `Successfully pulled image "x" in 250ms`}})
	assert.True(t, ok)
	assert.Equal(t, 250*time.Millisecond, p.Duration, "the older message, without the wait")
	_, ok = BasePull([]Event{{Time: t0, Reason: "Started", FieldPath: "spec.initContainers{build}"}})
	assert.False(t, ok, "no Pulled event")
}

func TestLayerSize(t *testing.T) {
	b, e, ok := LayerSize(logAt(layerLog))
	assert.True(t, ok)
	assert.Equal(t, [2]int64{1843200, 412}, [2]int64{b, e})
	_, _, ok = LayerSize(logAt(`0|build|layerhelper: layer written: many bytes, 3 entries`))
	assert.False(t, ok)
}
