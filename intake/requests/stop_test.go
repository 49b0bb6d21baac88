package requests_test

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/leadpipe/leadpipe/broker/brokertest"
)

func TestStopDoesNotWaitForAVanishedGroupMember(t *testing.T) {
	e := setup(t)
	e.produce(kafka.Message{Value: e.request(e.writeFile("leads.csv", leadsCSV), nil)})
	// A predecessor killed without leaving: the group waits up to 30 s for it to rejoin.
	brokertest.AbandonMember(t, e.brokers()[0], e.cfg.KafkaGroup, e.cfg.KafkaRequestsTopic, 30*time.Second)
	stop := e.start()
	e.eventually("the consumer to wait for the rebalance", func() bool {
		return brokertest.GroupState(t, e.brokers()[0], e.cfg.KafkaGroup) == "PreparingRebalance"
	})

	start := time.Now()
	stop()
	took := time.Since(start)
	t.Logf("stopped in %s", took.Round(time.Millisecond))
	if took > 10*time.Second { // the bug took 24-30 s; 10 s leaves room for a loaded machine
		t.Errorf("the consumer took %s to stop while the group was rebalancing; want at most 10s", took.Round(time.Millisecond))
	}
	if n := len(e.imports()); n != 0 || e.committed() != -1 {
		t.Errorf("%d imports, committed offset %d: the consumer had no partition, so it should have done nothing", n, e.committed())
	}
}
