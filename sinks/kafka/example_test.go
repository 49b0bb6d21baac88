package kafkasink_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"

	"github.com/segmentio/kafka-go"
)

// outcome is what this consumer reads of a row outcome message.
type outcome struct {
	Version    int    `json:"version"`
	ImportID   int64  `json:"import_id"`
	RowNumber  int    `json:"row_number"`
	Account    string `json:"account"`
	Outcome    string `json:"outcome"`
	Reason     string `json:"reason"`
	ProspectID *int64 `json:"prospect_id"`
}

// consume prints every row outcome once, until ctx is done. It commits a message's offset
// after handling it, so after a restart it goes on where it stopped.
func consume(ctx context.Context, brokers []string) error {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "crm-sync", Topic: "leadpipe.outcomes"})
	defer r.Close()
	// Outcomes may be published more than once: keep the first of each (import_id,
	// row_number). A real consumer keeps this in its own store, with what it did.
	seen := map[[2]int64]bool{}
	for {
		m, err := r.FetchMessage(ctx)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil {
			return err
		}
		var o outcome
		if err := json.Unmarshal(m.Value, &o); err != nil || o.Version != 1 {
			log.Printf("offset %d: not a version 1 row outcome; skipped", m.Offset)
		} else if key := [2]int64{o.ImportID, int64(o.RowNumber)}; !seen[key] {
			seen[key] = true
			fmt.Printf("%s: import %d row %d %s %s\n", o.Account, o.ImportID, o.RowNumber, o.Outcome, o.Reason)
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			return err
		}
	}
}

// A consumer of the outcomes topic, in Go with kafka-go; docs/kafka.md shows it.
func Example_consumer() {
	if err := consume(context.Background(), []string{"127.0.0.1:9092"}); err != nil {
		log.Fatal(err)
	}
}
