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
	deal := NewCatalog("deal", DealFields([]string{"Open", "Won"}), nil)
	stage := deal.Fields[deal.MustIndex(FieldStage)]
	if stage.Type != Picklist || len(stage.Options) != 2 || deal.HasCustom() || deal.AutoMap("Contact Email") != deal.MustIndex(FieldProspectEmail) {
		t.Errorf("deal catalog: stage %+v, custom %v", stage, deal.HasCustom())
	}
}
