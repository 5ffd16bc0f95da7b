package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/api/resource"
)

// quantities are the settings' usual values and the corners of
// ParseQuantity's grammar.
var quantities = []string{
	"250m", "512Mi", "2", "2Gi", "0", "1.5", "100k", "1e3", "1E-3", "+1", "-1", "0.5Gi", "007", "1.", ".5",
	"", " 1", "1 ", "two cores", "2 GiB", "1GiB", "1Gi1", "1ki", "1K", "1e", "1e+", "1e-", "1e3.5", "e3", "1..2",
	"-", "+", ".", "-.", ".Ki", ".Ti", ".Pi", ".Ei", ".e-9", ".e-10", "+.n", "0.e-10", "1e4294967287", ".e4294967287",
	"1e99999999999999999999", "1Mi-", "1m+5", "12345678901234567890123", "1.2345678901234567890Ei", "--1", "1-",
}

func TestCheckQuantityIsParseQuantity(t *testing.T) {
	for _, q := range quantities {
		t.Run(q, func(t *testing.T) { sameAsParseQuantity(t, q) })
	}
}

func FuzzCheckQuantity(f *testing.F) {
	for _, q := range quantities {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		// ParseQuantity scales its decimal by the exponent: a huge one
		// takes it seconds to minutes and gigabytes ("1e999999999999").
		if q != "" {
			_, suffix, ok := splitQuantity(q)
			if _, exp, known := quantitySuffix(suffix); ok && known && (exp > 64 || exp < -64) {
				t.Skip("exponent too large for ParseQuantity")
			}
		}
		sameAsParseQuantity(t, q)
	})
}

func sameAsParseQuantity(t *testing.T, q string) {
	t.Helper()
	_, want := resource.ParseQuantity(q)
	got := checkQuantity(q)
	if want == nil {
		assert.NoError(t, got, "ParseQuantity accepts %q", q)
		return
	}
	if assert.Error(t, got, "ParseQuantity refuses %q: %v", q, want) {
		assert.Equal(t, want.Error(), got.Error())
	}
}
