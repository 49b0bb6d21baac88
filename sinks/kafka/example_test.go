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
	Version   int    `json:"version"`
	ImportID  int64  `json:"import_id"`
	RowNumber int    `json:"row_number"`
	Account   string `json:"account"`
	Kind      string `json:"kind"`
	Outcome   string `json:"outcome"`
	Reason    string `json:"reason"`
	EntityID  *int64 `json:"entity_id"`
	// ProspectID is read from version 1 messages, which have no kind nor entity_id.
	ProspectID *int64 `json:"prospect_id"`
}

// read decodes a row outcome of version 1 or 2, as version 2.
func read(value []byte) (outcome, error) {
	var o outcome
	if err := json.Unmarshal(value, &o); err != nil {
		return o, err
	}
	switch o.Version {
	case 1: // always a prospects import
		o.Kind, o.EntityID = "prospects", o.ProspectID
	case 2:
	default:
		return o, fmt.Errorf("version %d", o.Version)
	}
	return o, nil
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
		if o, err := read(m.Value); err != nil {
			log.Printf("offset %d: not a row outcome this consumer knows (%v); skipped", m.Offset, err)
		} else if key := [2]int64{o.ImportID, int64(o.RowNumber)}; !seen[key] {
			seen[key] = true
			fmt.Printf("%s: import %d row %d %s %s %s\n", o.Account, o.ImportID, o.RowNumber, o.Kind, o.Outcome, o.Reason)
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
