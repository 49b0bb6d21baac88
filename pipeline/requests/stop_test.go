package requests_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// abandonMember joins the test's consumer group as a member that then vanishes without leaving,
// as a daemon killed with SIGKILL does: the broker keeps it in the group, holding partition 0,
// until its session times out.
func (e *env) abandonMember(session time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(e.brokers()...)}
	topic := e.cfg.KafkaRequestsTopic
	join := &kafka.JoinGroupRequest{GroupID: e.cfg.KafkaGroup, SessionTimeout: session, RebalanceTimeout: session,
		ProtocolType: "consumer", Protocols: []kafka.GroupProtocol{{Name: "range", Metadata: kafka.GroupProtocolSubscription{Topics: []string{topic}}}}}
	joined, err := client.JoinGroup(ctx, join)
	if err == nil && errors.Is(joined.Error, kafka.MemberIDRequired) {
		join.MemberID = joined.MemberID
		joined, err = client.JoinGroup(ctx, join)
	}
	if err == nil {
		err = joined.Error
	}
	if err != nil {
		e.t.Fatalf("join group: %v", err)
	}
	synced, err := client.SyncGroup(ctx, &kafka.SyncGroupRequest{GroupID: e.cfg.KafkaGroup, GenerationID: joined.GenerationID,
		MemberID: joined.MemberID, ProtocolType: "consumer", ProtocolName: "range",
		Assignments: []kafka.SyncGroupRequestAssignment{{MemberID: joined.MemberID,
			Assignment: kafka.GroupProtocolAssignment{AssignedPartitions: map[string][]int{topic: {0}}}}}})
	if err == nil {
		err = synced.Error
	}
	if err != nil {
		e.t.Fatalf("sync group: %v", err)
	}
}

// groupState returns the state of the test's consumer group, as the broker describes it.
func (e *env) groupState() string {
	e.t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(e.brokers()...)}
	resp, err := client.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{e.cfg.KafkaGroup}})
	if err != nil || len(resp.Groups) != 1 {
		e.t.Fatalf("describe group: %v %+v", err, resp)
	}
	return resp.Groups[0].GroupState
}

func TestStopDoesNotWaitForAVanishedGroupMember(t *testing.T) {
	e := setup(t)
	e.produce(kafka.Message{Value: e.request(e.writeFile("leads.csv", leadsCSV), nil)})
	// A predecessor killed without leaving: the group waits up to 30 s for it to rejoin.
	e.abandonMember(30 * time.Second)
	stop := e.start()
	e.eventually("the consumer to wait for the rebalance", func() bool { return e.groupState() == "PreparingRebalance" })

	start := time.Now()
	stop()
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the consumer took %s to stop while the group was rebalancing; want at most 3s", took.Round(time.Millisecond))
	}
	if n := len(e.imports()); n != 0 || e.committed() != -1 {
		t.Errorf("%d imports, committed offset %d: the consumer had no partition, so it should have done nothing", n, e.committed())
	}
}
