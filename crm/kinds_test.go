package crm

import "testing"

func TestDealNameKey(t *testing.T) {
	for in, want := range map[string]string{
		"Renewal 2026":        "renewal 2026",
		"  RENEWAL \t 2026  ": "renewal 2026",
		"Renewal-2026":        "renewal-2026",
		"Ünïcode Déal":        "ünïcode déal",
		"":                    "",
	} {
		if got := DealNameKey(in); got != want {
			t.Errorf("DealNameKey(%q) = %q, want %q", in, got, want)
		}
	}
}
