package config

import (
	"errors"
	"strconv"
	"strings"
)

// The errors of k8s.io/apimachinery's resource.ParseQuantity, with its words.
var (
	errQuantityFormat  = errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
	errQuantityNumeric = errors.New("unable to parse numeric part of quantity")
	errQuantitySuffix  = errors.New("unable to parse quantity's suffix")
)

// checkQuantity accepts exactly the strings resource.ParseQuantity of
// k8s.io/apimachinery accepts (the Job builder parses them with
// resource.MustParse), and fails with its error otherwise. It is written
// here so that loading the settings links no Kubernetes package: an action
// that never talks to Kubernetes (capabilities) links none.
// FuzzCheckQuantity holds it to ParseQuantity.
func checkQuantity(s string) error {
	if s == "" {
		return errQuantityFormat
	}
	if s == "0" {
		return nil
	}
	value, suffix, ok := splitQuantity(s)
	if !ok {
		return errQuantityFormat
	}
	base, exponent, ok := quantitySuffix(suffix)
	if !ok {
		return errQuantitySuffix
	}
	if strings.ContainsAny(value, "0123456789") {
		return nil
	}
	// A number without digits (".", "-.") is read as 0 where ParseQuantity
	// keeps to int64 arithmetic, and refused where it turns to decimals:
	// a decimal exponent below nano, or a binary one of 2^50 and up.
	switch {
	case base == 10 && exponent >= -9:
		return nil
	case base == 2 && 13-int32(float32(exponent)*3/10) >= 0:
		return nil
	}
	return errQuantityNumeric
}

// splitQuantity splits s as ParseQuantity does: a sign, digits with an
// optional point (value), then suffix letters, an optional sign and digits.
func splitQuantity(s string) (value, suffix string, ok bool) {
	pos, end := 0, len(s)
	if s[0] == '-' || s[0] == '+' {
		pos++
	}
	for pos < end && s[pos] == '0' {
		pos++
	}
	if pos == end {
		return "0", "", true
	}
	pos = digits(s, pos)
	if pos == end {
		return s, "", true
	}
	if s[pos] == '.' {
		pos = digits(s, pos+1)
		if pos == end {
			return s, "", true
		}
	}
	value = s[:pos]
	start := pos
	for pos < end && strings.IndexByte("eEinumkKMGTP", s[pos]) >= 0 {
		pos++
	}
	if pos == end {
		return value, s[start:], true
	}
	if s[pos] == '-' || s[pos] == '+' {
		pos++
	}
	if digits(s, pos) != end {
		return "", "", false
	}
	return value, s[start:], true
}

// digits returns the index of the first non-digit of s from pos on.
func digits(s string, pos int) int {
	for pos < len(s) && s[pos] >= '0' && s[pos] <= '9' {
		pos++
	}
	return pos
}

// quantitySuffix reads a suffix as ParseQuantity does: a decimal SI or
// binary SI one, or e/E and a decimal exponent (kept to 32 bits as it is).
func quantitySuffix(s string) (base, exponent int32, ok bool) {
	switch s {
	case "n":
		return 10, -9, true
	case "u":
		return 10, -6, true
	case "m":
		return 10, -3, true
	case "":
		return 10, 0, true
	case "k":
		return 10, 3, true
	case "M":
		return 10, 6, true
	case "G":
		return 10, 9, true
	case "T":
		return 10, 12, true
	case "P":
		return 10, 15, true
	case "E":
		return 10, 18, true
	case "Ki":
		return 2, 10, true
	case "Mi":
		return 2, 20, true
	case "Gi":
		return 2, 30, true
	case "Ti":
		return 2, 40, true
	case "Pi":
		return 2, 50, true
	case "Ei":
		return 2, 60, true
	}
	if len(s) > 1 && (s[0] == 'e' || s[0] == 'E') {
		n, err := strconv.ParseInt(s[1:], 10, 64)
		if err != nil {
			return 0, 0, false
		}
		return 10, int32(n), true
	}
	return 0, 0, false
}
