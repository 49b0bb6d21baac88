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

// Each kind's catalog holds the keys its table's columns store.
func TestKindCatalogs(t *testing.T) {
	org := NewCatalog("organization", OrganizationFields(), []Field{{Key: "crm_id", Label: "CRM Id", Type: Text}})
	if org.Index("industry") != 9 || org.Index("crm_id") != 10 || !org.HasCustom() || org.AutoMap("Company Name") != 0 {
		t.Errorf("organization catalog: industry %d, crm_id %d, custom %v, Company Name → %d",
			org.Index("industry"), org.Index("crm_id"), org.HasCustom(), org.AutoMap("Company Name"))
	}
}
