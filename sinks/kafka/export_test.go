package kafkasink

import (
	"context"
	"net"
	"sync/atomic"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/metadata"
)

// ProduceRequests returns how many produce requests s sent since the last call (its writer's
// Stats, which start again from zero after each).
func ProduceRequests(s *Sink) int64 { return s.writer.Stats().Writes }

// CountMetadataLookups counts, from now on, the metadata requests that s's writer sends past
// its cache to kafka-go's transport; the function it returns says how many so far.
func CountMetadataLookups(s *Sink) func() int64 {
	c := &countingTransport{next: s.metadata.next}
	s.metadata.next = c
	return c.lookups.Load
}

type countingTransport struct {
	next    kafka.RoundTripper
	lookups atomic.Int64
}

func (c *countingTransport) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	if _, ok := req.(*metadata.Request); ok {
		c.lookups.Add(1)
	}
	return c.next.RoundTrip(ctx, addr, req)
}
