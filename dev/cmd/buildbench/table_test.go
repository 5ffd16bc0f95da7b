package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/apache/openserverless-deployer/dev/buildstats"
)

func TestPrintTable(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	phase := func(name string, s float64) buildstats.Phase {
		return buildstats.Phase{Name: name, Duration: time.Duration(s * float64(time.Second))}
	}
	kaniko := measurement{
		requested: t0, answered: at(0.1), firstLine: at(1.1), lastLine: at(30), ended: at(30.4), state: "succeeded",
		phases: []buildstats.Phase{phase(buildstats.Fetch, 8), phase(buildstats.Install, 2), phase(buildstats.Push, 3)},
	}
	layer := measurement{
		requested: t0, answered: at(0.1), firstLine: at(4.1), lastLine: at(9), ended: at(9.2), state: "succeeded",
		phases: []buildstats.Phase{
			phase(buildstats.BasePulled, 3), phase(buildstats.Install, 2.5),
			phase(buildstats.LayerWritten, 0.5), phase(buildstats.Push, 1),
		},
		layerBytes: 1_843_200, layerEntries: 412,
	}
	var out strings.Builder
	printTable(&out, []result{
		{engine: "kaniko", cases: []caseResult{{"nodejs", kaniko}}, repeat: []time.Duration{time.Millisecond, 3 * time.Millisecond}},
		{engine: "layer", cases: []caseResult{{"nodejs", layer}}},
	})
	want := `
case                      kaniko            layer
nodejs
  request → final state   30.4 s succeeded  9.2 s succeeded
  queued                  1.0 s             4.0 s
  base fetched            8.0 s             –
  base pulled             –                 3.0 s
  install (RUN)           2.0 s             2.5 s
  layer written           –                 0.5 s
  pushed                  3.0 s             1.0 s
  last line → seen final  0.4 s             0.2 s
  layer written (size)    –                 1.8 MB, 412 entries
repeat ensure, p50        3.0 ms            –
`
	assert.Equal(t, want, out.String())
}
