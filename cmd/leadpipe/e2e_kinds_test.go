package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/leadpipe/leadpipe/broker/brokertest"
	kafkasink "github.com/leadpipe/leadpipe/sinks/kafka"
)

// TestEndToEndDeals: a deals file dropped in the watched directory, its kind named by its
// options file, becomes a completed deals import. Every row's outcome — created, updated,
// skipped, with its warnings — is on the outcomes topic with the kind and the deal's id, and in
// ClickHouse by kind, exactly as in Postgres; deals link to the prospects an earlier prospects
// import created, and no prospect is created for an unknown one.
func TestEndToEndDeals(t *testing.T) {
	e := startE2E(t)
	ctx := context.Background()
	e.drop("people.csv", []byte("Email,First Name,Last Name\nann@acme.example,Ann,Able\nbo@beta.example,Bo,Best\n"))
	people := e.importOf("watch", "people.csv")
	e.waitFor("the prospects imported", func() bool { s, _ := e.status(people); return s == "completed" })
	prospectID := func(email string) int64 {
		var id int64
		if err := e.pool.QueryRow(ctx, `SELECT p.id FROM prospects p JOIN accounts a ON a.id = p.account_id
			WHERE a.name = $1 AND p.email = $2`, e.account, email).Scan(&id); err != nil {
			t.Fatalf("prospect %s: %v", email, err)
		}
		return id
	}
	ann, bo := prospectID("ann@acme.example"), prospectID("bo@beta.example")

	if err := os.WriteFile(filepath.Join(e.watchDir, "deals.csv.options.json"), []byte(`{"kind": "deals"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e.drop("deals.csv", []byte("Deal Name,Amount,Stage,Close Date,Company,Prospect Email,Prospect First Name,Prospect Last Name\n"+
		"Renewal,1200,Proposal,2026-12-31,Acme Inc.,ann@acme.example,,\n"+ // 2 created, linked to Ann
		"Pilot,300,Prospecting,,Acme,nobody@acme.example,,\n"+ // 3 created; prospect_not_found
		"Renewal,1500,Negotiation,,ACME LLC,,,\n"+ // 4 updates row 2's deal: same name, same organization
		",99,Proposal,,Acme,,,\n"+ // 5 skipped: no name
		"Expansion,50,Signed,,Beta Corp,,Bo,Best\n")) // 6 created, linked to Bo by name; the stage is no stage
	id := e.importOf("watch", "deals.csv")
	e.waitFor("the deals import completed and on kafka", func() bool { return e.delivered("kafka", id) })
	e.checkTopic(id)
	e.waitFor("the deals import in clickhouse", func() bool { return e.delivered("clickhouse", id) })
	e.checkClickHouse(id)

	// What the import did, by hand: outcomes, links and warnings.
	deal := func(name string) (id, prospect int64, amount string) {
		var p *int64
		if err := e.pool.QueryRow(ctx, `SELECT d.id, d.prospect_id, d.amount::text FROM deals d JOIN accounts a ON a.id = d.account_id
			WHERE a.name = $1 AND d.name = $2`, e.account, name).Scan(&id, &p, &amount); err != nil {
			t.Fatalf("deal %s: %v", name, err)
		}
		if p != nil {
			prospect = *p
		}
		return id, prospect, amount
	}
	renewal, renewalProspect, renewalAmount := deal("Renewal")
	pilot, pilotProspect, _ := deal("Pilot")
	expansion, expansionProspect, _ := deal("Expansion")
	if renewalProspect != ann || renewalAmount != "1500" || pilotProspect != 0 || expansionProspect != bo {
		t.Errorf("deals: Renewal prospect %d amount %s, Pilot prospect %d, Expansion prospect %d; want %d 1500, none, %d",
			renewalProspect, renewalAmount, pilotProspect, expansionProspect, ann, bo)
	}
	want := []string{
		outcomeLine("deals", 2, "created", "", renewal),
		outcomeLine("deals", 3, "created", "", pilot),
		outcomeLine("deals", 4, "updated", "", renewal),
		outcomeLine("deals", 5, "skipped", "missing_identifier", 0),
		outcomeLine("deals", 6, "created", "", expansion),
	}
	if got := e.postgresOutcomes(id); !slices.Equal(got, want) {
		t.Errorf("deals import outcomes:\n%q\nwant\n%q", got, want)
	}
	var prospects int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM prospects p JOIN accounts a ON a.id = p.account_id WHERE a.name = $1`,
		e.account).Scan(&prospects); err != nil || prospects != 2 {
		t.Errorf("the account has %d prospects (%v), want the 2 it had: a deal import creates none", prospects, err)
	}

	// The warnings went out on the topic with their rows.
	warnings := map[int]string{}
	for _, m := range brokertest.Messages(t, e.kafka.Addr(), "leadpipe.outcomes") {
		if string(m.Key) != strconv.FormatInt(id, 10) {
			continue
		}
		var o kafkasink.Outcome
		if err := json.Unmarshal(m.Value, &o); err != nil {
			t.Fatal(err)
		}
		var ws []struct{ Field, Kind, Value string }
		if err := json.Unmarshal(o.Warnings, &ws); err != nil {
			t.Fatalf("row %d warnings %s: %v", o.RowNumber, o.Warnings, err)
		}
		for _, w := range ws {
			warnings[o.RowNumber] += w.Field + ":" + w.Kind + ":" + w.Value + " "
		}
		if o.ProspectID != nil {
			t.Errorf("row %d of a deals import has prospect_id %d; it is for prospects imports only", o.RowNumber, *o.ProspectID)
		}
	}
	wantWarnings := map[int]string{
		3: "prospect_email:prospect_not_found:nobody@acme.example ",
		6: "stage:invalid_picklist_value:Signed ",
	}
	if !maps.Equal(warnings, wantWarnings) {
		t.Errorf("warnings on the topic: %v, want %v", warnings, wantWarnings)
	}

	// The saved queries break the import down by kind.
	var kind string
	var created, skipped uint64
	if err := e.chConn.QueryRow(ctx, `SELECT kind, countIf(outcome = 'created'), countIf(outcome = 'skipped')
		FROM leadpipe_e2e.row_outcomes FINAL WHERE import_id = ? GROUP BY kind`, uint64(id)).Scan(&kind, &created, &skipped); err != nil {
		t.Fatal(err)
	}
	if kind != "deals" || created != 3 || skipped != 1 {
		t.Errorf("ClickHouse: kind %s, %d created, %d skipped; want deals, 3, 1", kind, created, skipped)
	}
	e.waitFor("the deals file in processed/", func() bool {
		_, err := os.Stat(filepath.Join(e.watchDir, "processed", "deals.csv"))
		return err == nil
	})
}
