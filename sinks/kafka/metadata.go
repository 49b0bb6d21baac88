package kafkasink

import (
	"context"
	"net"
	"sync"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/metadata"
)

// metadataCache is the sink's writer's transport. kafka-go's Writer looks up the metadata of a
// message's topic once per message, to count its partitions (Writer.partitions). kafka-go's
// transport answers from its own cache (Transport.MetadataTTL, 6 s by default), but copies the
// topic's part of the cached response each time: 0.88 CPU-s and 0.36 GB over the serve step's
// two imports of 1M rows (docs/architecture.md, "The serve step's sinks without copies").
//
// metadataCache answers a lookup of one topic's metadata with the response to the first such
// lookup since the sink began its produce request (begin), and passes every other request on:
// one lookup per request of up to produceRows messages instead of one per message. The writer
// only reads the response, and it always asks the sink's brokers, so the topic is the key.
type metadataCache struct {
	next kafka.RoundTripper

	mu     sync.Mutex
	topic  string
	create bool
	res    *metadata.Response // nil: none kept
}

// begin forgets the response kept: a produce request begins, and looks its topic up afresh.
func (c *metadataCache) begin() {
	c.mu.Lock()
	c.res = nil
	c.mu.Unlock()
}

// RoundTrip answers a lookup of one topic's metadata from the response kept for it when there
// is one, and sends every other request to the transport behind it. Only a response that names
// the topic without an error is kept.
func (c *metadataCache) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	m, ok := req.(*metadata.Request)
	if !ok || len(m.TopicNames) != 1 || m.IncludeClusterAuthorizedOperations || m.IncludeTopicAuthorizedOperations {
		return c.next.RoundTrip(ctx, addr, req)
	}
	topic, create := m.TopicNames[0], m.AllowAutoTopicCreation
	c.mu.Lock()
	kept := c.res
	if kept != nil && (c.topic != topic || c.create != create) {
		kept = nil
	}
	c.mu.Unlock()
	if kept != nil {
		return kept, nil
	}
	res, err := c.next.RoundTrip(ctx, addr, req)
	if r, ok := res.(*metadata.Response); err == nil && ok && len(r.Topics) == 1 && r.Topics[0].Name == topic && r.Topics[0].ErrorCode == 0 {
		c.mu.Lock()
		c.topic, c.create, c.res = topic, create, r
		c.mu.Unlock()
	}
	return res, err
}
