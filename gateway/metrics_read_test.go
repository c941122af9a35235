package gateway

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// metricSamples gathers m and returns the samples of the metric name whose
// labels include every one of labels.
func metricSamples(t *testing.T, m *Metrics, name string, labels map[string]string) []*dto.Metric {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.Metric
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			match := true
			for k, v := range labels {
				if have[k] != v {
					match = false
					break
				}
			}
			if match {
				out = append(out, s)
			}
		}
	}
	return out
}

// gaugeValue returns the value of the one gauge sample of name with labels.
func gaugeValue(t *testing.T, m *Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	s := metricSamples(t, m, name, labels)
	if len(s) != 1 {
		t.Fatalf("metric %s%v: %d samples, want 1", name, labels, len(s))
	}
	return s[0].GetGauge().GetValue()
}

// histogramSamples returns how many observations the samples of the
// histogram name with labels hold together.
func histogramSamples(t *testing.T, m *Metrics, name string, labels map[string]string) uint64 {
	t.Helper()
	var n uint64
	for _, s := range metricSamples(t, m, name, labels) {
		n += s.GetHistogram().GetSampleCount()
	}
	return n
}

// counterSum returns the sum of the counter name's samples with labels.
func counterSum(t *testing.T, m *Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	var n float64
	for _, s := range metricSamples(t, m, name, labels) {
		n += s.GetCounter().GetValue()
	}
	return n
}
