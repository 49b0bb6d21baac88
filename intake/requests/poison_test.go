package requests_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/intake/requests"
)

// exec runs SQL on the test's database, undoing it with undo when the test ends.
func (e *env) exec(sql, undo string) {
	e.t.Helper()
	if _, err := e.pool.Exec(context.Background(), sql); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if _, err := e.pool.Exec(context.Background(), undo); err != nil {
			e.t.Errorf("undo %q: %v", sql, err)
		}
	})
}

// checkPoisonDeadLettered checks that the requests in poisoned are dead-lettered in order with
// their reasons, and that the good request produced after them is queued.
func (e *env) checkPoisonDeadLettered(poisoned []malformed) {
	e.t.Helper()
	var msgs []kafka.Message
	for _, p := range poisoned {
		msgs = append(msgs, kafka.Message{Value: []byte(p.value)})
	}
	msgs = append(msgs, kafka.Message{Value: e.request(e.writeFile("good.csv", leadsCSV), nil)})
	e.produce(msgs...)
	e.start()
	for i, dl := range e.deadLetters(len(poisoned)) {
		p := poisoned[i]
		if string(dl.Value) != p.value {
			e.t.Errorf("dead letter %d is %q, want %s: %q", i, dl.Value, p.name, p.value)
			continue
		}
		if got := header(dl, requests.HeaderReason); got != p.reason {
			e.t.Errorf("%s: reason %q, want %q (%s)", p.name, got, p.reason, header(dl, requests.HeaderDetail))
		}
		if got := header(dl, requests.HeaderDetail); !strings.Contains(got, p.detail) {
			e.t.Errorf("%s: detail %q does not say %q", p.name, got, p.detail)
		}
	}
	e.waitCommitted(int64(len(msgs)))
	if imps := e.imports(); len(imps) != 1 || imps[0].FileName != "good.csv" {
		e.t.Errorf("imports %+v, want the good request's only", imps)
	}
}

func TestPoisonedRequestsAreDeadLetteredAndTheNextIsQueued(t *testing.T) {
	e := setup(t)
	// Postgres refuses a request that passes every check of the message: a constraint stands in
	// for any value the database will not store.
	e.exec(`ALTER TABLE kafka_requests ADD CONSTRAINT poison_test CHECK (request_key NOT LIKE '%:refused-by-a-check') NOT VALID`,
		`ALTER TABLE kafka_requests DROP CONSTRAINT poison_test`)
	good := e.writeFile("leads.csv", leadsCSV)
	req := func(extra map[string]any) string { return string(e.request(good, extra)) }
	e.checkPoisonDeadLettered([]malformed{
		{"NUL in request_id", req(map[string]any{"request_id": "r-1\x00"}), requests.ReasonBadMessage, `"request_id" holds a NUL character`},
		{"NUL in account", fmt.Sprintf(`{"version": 1, "account": "%s\u0000", "file": %q}`, e.acct.Name, good),
			requests.ReasonBadMessage, `"account" holds a NUL character`},
		{"NUL in an option", req(map[string]any{"options": map[string]any{"tags": []string{"ok", "bad\x00"}}}),
			requests.ReasonBadMessage, `"options.tags[1]" holds a NUL character`},
		{"NUL in kind", req(map[string]any{"kind": "prospects\x00"}), requests.ReasonBadMessage, `"kind" holds a NUL character`},
		{"invalid UTF-8 in kind", fmt.Sprintf("{\"version\": 1, \"account\": %q, \"file\": %q, \"kind\": \"prospects\xff\"}", e.acct.Name, good),
			requests.ReasonBadMessage, "not valid UTF-8 (a bad byte at offset"},
		{"invalid UTF-8", fmt.Sprintf("{\"version\": 1, \"account\": %q, \"file\": \"bad\xff.csv\"}", e.acct.Name),
			requests.ReasonBadMessage, "not valid UTF-8 (a bad byte at offset"},
		{"refused by Postgres", req(map[string]any{"request_id": "refused-by-a-check"}), requests.ReasonRefused,
			"violates check constraint \"poison_test\" (SQLSTATE 23514)"},
	})
}

func TestRequestFailingUnexpectedlyIsDeadLetteredAfterMaxAttempts(t *testing.T) {
	e := setup(t)
	e.cfg.KafkaRequestMaxAttempts = 3
	// An error that is neither the message's nor a connection's, for one request only.
	e.exec(`CREATE FUNCTION poison_test() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.request_key LIKE '%:keeps-failing' THEN
				RAISE EXCEPTION 'a failure nobody foresaw';
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER poison_test BEFORE INSERT ON kafka_requests FOR EACH ROW EXECUTE FUNCTION poison_test()`,
		`DROP TRIGGER poison_test ON kafka_requests; DROP FUNCTION poison_test()`)
	e.checkPoisonDeadLettered([]malformed{
		{"keeps failing", string(e.request(e.writeFile("leads.csv", leadsCSV), map[string]any{"request_id": "keeps-failing"})),
			requests.ReasonFailed, "failed 3 times with an unexpected error, the last: Postgres: a failure nobody foresaw (SQLSTATE P0001)"},
	})
}
