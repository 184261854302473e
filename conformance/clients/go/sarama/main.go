// Command sarama-driver runs the conformance scenarios (conformance/SCENARIOS.md) with IBM/sarama.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	"github.com/IBM/sarama"

	"github.com/chronik/conformance/clients/go/internal/conf"
)

// protocolVersion is the Kafka version Sarama is told the broker runs: new enough for record
// headers, timestamps, zstd and idempotence; Sarama still caps each request at the broker's ApiVersions.
var protocolVersion = sarama.V3_6_0_0

var osStderr = os.Stderr

func main() {
	sarama.Logger = log.New(os.Stderr, "[sarama] ", log.LstdFlags)
	scenarios := map[string]conf.Func{
		"connect":                 connect,
		"metadata":                metadata,
		"max-message-bytes":       maxMessageBytes,
		"acks-0":                  acks(sarama.NoResponse),
		"acks-1":                  acks(sarama.WaitForLocal),
		"acks-all":                acks(sarama.WaitForAll),
		"consume-earliest":        consumeEarliest,
		"consume-latest":          consumeLatest,
		"consume-timestamp":       consumeTimestamp,
		"idempotent":              idempotent,
		"admin-topics":            withTopicAdmin((*conf.TopicAdmin).AdminTopics),
		"admin-configs":           adminConfigs,
		"admin-partitions":        withTopicAdmin((*conf.TopicAdmin).AdminPartitions),
		"admin-records":           adminRecords,
		"restart-produce":         restartProduce,
		"restart-consume":         restartConsume,
		"group-offsets":           groupOffsets,
		"group-rebalance":         groupRebalance(false),
		"group-cooperative":       groupRebalance(true),
		"group-static":            groupStatic,
		"group-consumer-protocol": groupConsumerProtocol,
		"security-ssl":            security.SSL,
		"security-sasl-plaintext": security.SASL("SASL_PLAINTEXT"),
		"security-sasl-ssl":       security.SASL("SASL_SSL"),
		"security-auth-failure":   security.AuthFailureScenario,
	}
	for name, codec := range map[string]sarama.CompressionCodec{
		"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
		"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
	} {
		scenarios["roundtrip-"+name] = roundtrip(codec)
	}
	conf.Main("sarama", "github.com/IBM/sarama", scenarios)
}

// ---------------------------------------------------------------------------------------------
// helpers

var saramaNames = map[sarama.KError]string{
	sarama.ErrUnknownTopicOrPartition:     "ErrUnknownTopicOrPartition",
	sarama.ErrMessageSizeTooLarge:         "ErrMessageSizeTooLarge",
	sarama.ErrTopicAlreadyExists:          "ErrTopicAlreadyExists",
	sarama.ErrInvalidPartitions:           "ErrInvalidPartitions",
	sarama.ErrNotLeaderForPartition:       "ErrNotLeaderForPartition",
	sarama.ErrOffsetOutOfRange:            "ErrOffsetOutOfRange",
	sarama.ErrRequestTimedOut:             "ErrRequestTimedOut",
	sarama.ErrInvalidConfig:               "ErrInvalidConfig",
	sarama.ErrUnsupportedVersion:          "ErrUnsupportedVersion",
	sarama.ErrInvalidRequest:              "ErrInvalidRequest",
	sarama.ErrUnknown:                     "ErrUnknown",
	sarama.ErrOutOfOrderSequenceNumber:    "ErrOutOfOrderSequenceNumber",
	sarama.ErrDuplicateSequenceNumber:     "ErrDuplicateSequenceNumber",
	sarama.ErrUnsupportedCompressionType:  "ErrUnsupportedCompressionType",
	sarama.ErrPolicyViolation:             "ErrPolicyViolation",
	sarama.ErrInvalidReplicationFactor:    "ErrInvalidReplicationFactor",
	sarama.ErrInvalidRecord:               "ErrInvalidRecord",
	sarama.ErrNotEnoughReplicas:           "ErrNotEnoughReplicas",
	sarama.ErrKafkaStorageError:           "ErrKafkaStorageError",
	sarama.ErrUnknownProducerID:           "ErrUnknownProducerID",
	sarama.ErrInvalidProducerEpoch:        "ErrInvalidProducerEpoch",
	sarama.ErrInvalidTimestamp:            "ErrInvalidTimestamp",
	sarama.ErrClusterAuthorizationFailed:  "ErrClusterAuthorizationFailed",
	sarama.ErrTopicAuthorizationFailed:    "ErrTopicAuthorizationFailed",
	sarama.ErrInvalidTopic:                "ErrInvalidTopic",
	sarama.ErrLeaderNotAvailable:          "ErrLeaderNotAvailable",
	sarama.ErrNetworkException:            "ErrNetworkException",
	sarama.ErrNotController:               "ErrNotController",
	sarama.ErrUnsupportedForMessageFormat: "ErrUnsupportedForMessageFormat",
}

// errName names a Sarama error: its Go error variable and, for broker errors, the Kafka name and code.
func errName(err error) string {
	var ke sarama.KError
	if errors.As(err, &ke) {
		n := saramaNames[ke]
		if n == "" {
			n = "KError"
		}
		return fmt.Sprintf("sarama.%s (%s, code %d)", n, conf.KafkaName(int16(ke)), int16(ke))
	}
	return fmt.Sprintf("%T", errors.Unwrap(err))
}

// describe renders an error for a detail line: message plus name/code.
func describe(err error) string {
	var ke sarama.KError
	if errors.As(err, &ke) {
		return fmt.Sprintf("%v [%s]", err, errName(err))
	}
	return fmt.Sprintf("%v [%T]", err, err)
}

func newConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.Version = protocolVersion
	c.ClientID = "chronik-conformance-sarama"
	c.Metadata.AllowAutoTopicCreation = false
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Compression = sarama.CompressionNone
	c.Net.MaxOpenRequests = 1 // keep send order: no idempotence unless asked
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Admin.Timeout = 30 * time.Second
	if secureConn != nil {
		secureConn(c)
	}
	return c
}

func toMessage(topic string, partition int32, r conf.Record, idx int) *sarama.ProducerMessage {
	hs := make([]sarama.RecordHeader, 0, len(r.Headers))
	for _, h := range r.Headers {
		hs = append(hs, sarama.RecordHeader{Key: []byte(h.Key), Value: []byte(h.Value)})
	}
	m := &sarama.ProducerMessage{
		Topic: topic, Partition: partition, Key: sarama.ByteEncoder(r.Key), Value: sarama.ByteEncoder(r.Value),
		Headers: hs, Metadata: idx,
	}
	if r.Timestamp != 0 {
		m.Timestamp = time.UnixMilli(r.Timestamp)
	}
	return m
}

func fromMessage(m *sarama.ConsumerMessage) conf.Record {
	r := conf.Record{Key: m.Key, Value: m.Value, Timestamp: m.Timestamp.UnixMilli(), Partition: m.Partition, Offset: m.Offset}
	if r.Key == nil {
		r.Key = []byte{}
	}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, conf.Header{Key: string(h.Key), Value: string(h.Value)})
	}
	return r
}

// produce sends recs with an AsyncProducer (record i to partitionOf(i)), waits for every delivery
// and returns the delivery offsets.
func produce(ctx context.Context, s *conf.Scenario, cfg *sarama.Config, topic string, recs []conf.Record, partitionOf func(int) int32) ([]int64, error) {
	s.Step("creating the producer")
	p, err := sarama.NewAsyncProducer([]string{s.Bootstrap}, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the producer: %s", describe(err))
	}
	closed := false
	defer func() {
		if !closed {
			p.AsyncClose()
		}
	}()
	offsets := make([]int64, len(recs))
	s.Step("producing %d records to %s", len(recs), topic)
	go func() {
		for i, r := range recs {
			part := int32(0)
			if partitionOf != nil {
				part = partitionOf(i)
			}
			select {
			case p.Input() <- toMessage(topic, part, r, i):
			case <-ctx.Done():
				return
			}
		}
	}()
	var firstErr error
	for n := 0; n < len(recs); n++ {
		select {
		case m := <-p.Successes():
			offsets[m.Metadata.(int)] = m.Offset
		case pe := <-p.Errors():
			if firstErr == nil {
				firstErr = fmt.Errorf("delivery of record %v failed: %s", pe.Msg.Metadata, describe(pe.Err))
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("timeout: awaiting deliveries (%d of %d done)", n, len(recs))
		}
	}
	s.Step("closing the producer")
	closed = true
	if err := p.Close(); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("closing the producer: %s", describe(err))
	}
	return offsets, firstErr
}

// consume reads n records of topic/partition starting at offset (or OffsetOldest/OffsetNewest),
// then keeps listening for `extra` to catch records that should not be there.
func consume(ctx context.Context, s *conf.Scenario, topic string, partition int32, offset int64, n int, extra time.Duration) ([]conf.Record, error) {
	s.Step("creating the consumer")
	cl, err := newClient(s, "consumer client")
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	c, err := sarama.NewConsumerFromClient(cl)
	if err != nil {
		return nil, fmt.Errorf("creating the consumer: %s", describe(err))
	}
	defer c.Close()
	// Right after a broker start the partition may not have a leader yet (NOT_LEADER_OR_FOLLOWER,
	// LEADER_NOT_AVAILABLE): ConsumePartition does not retry those itself.
	var pc sarama.PartitionConsumer
	for attempt := 1; ; attempt++ {
		pc, err = c.ConsumePartition(topic, partition, offset)
		if err == nil || !retriableLeader(err) || ctx.Err() != nil {
			break
		}
		s.Fact("consume_partition_retries", attempt)
		_ = cl.RefreshMetadata(topic)
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("ConsumePartition(%s, %d, %d): %s", topic, partition, offset, describe(err))
	}
	defer pc.AsyncClose()
	return readFrom(ctx, s, pc, topic, partition, n, extra)
}

func readFrom(ctx context.Context, s *conf.Scenario, pc sarama.PartitionConsumer, topic string, partition int32, n int, extra time.Duration) ([]conf.Record, error) {
	var out []conf.Record
	s.Step("consuming %d records from %s[%d]", n, topic, partition)
	for len(out) < n {
		select {
		case m := <-pc.Messages():
			out = append(out, fromMessage(m))
		case e := <-pc.Errors():
			return out, fmt.Errorf("consuming %s[%d] after %d records: %s", topic, partition, len(out), describe(e.Err))
		case <-ctx.Done():
			return out, fmt.Errorf("timeout: awaiting records from %s[%d] (%d of %d read)", topic, partition, len(out), n)
		}
	}
	if extra > 0 {
		t := time.NewTimer(extra)
		defer t.Stop()
		for {
			select {
			case m := <-pc.Messages():
				out = append(out, fromMessage(m))
			case e := <-pc.Errors():
				return out, fmt.Errorf("consuming %s[%d] after %d records: %s", topic, partition, len(out), describe(e.Err))
			case <-t.C:
				return out, nil
			case <-ctx.Done():
				return out, nil
			}
		}
	}
	return out, nil
}

func withOffsets(recs []conf.Record, base int64) []conf.Record {
	out := slices.Clone(recs)
	for i := range out {
		out[i].Offset = base + int64(i)
	}
	return out
}

func retriableLeader(err error) bool {
	return errors.Is(err, sarama.ErrNotLeaderForPartition) || errors.Is(err, sarama.ErrLeaderNotAvailable) ||
		errors.Is(err, sarama.ErrUnknownTopicOrPartition) || errors.Is(err, sarama.ErrRequestTimedOut) ||
		errors.Is(err, sarama.ErrOutOfBrokers) || errors.Is(err, sarama.ErrNotConnected)
}

// newClient connects a client with newConfig() (what prefixes the error).
func newClient(s *conf.Scenario, what string) (sarama.Client, error) {
	cl, err := sarama.NewClient([]string{s.Bootstrap}, newConfig())
	if err != nil {
		return nil, fmt.Errorf("%s: %s", what, describe(err))
	}
	return cl, nil
}

func newAdmin(s *conf.Scenario) (sarama.ClusterAdmin, error) {
	s.Step("creating the cluster admin")
	a, err := sarama.NewClusterAdmin([]string{s.Bootstrap}, newConfig())
	if err != nil {
		return nil, fmt.Errorf("creating the cluster admin: %s", describe(err))
	}
	return a, nil
}

// ---------------------------------------------------------------------------------------------
// scenarios

func connect(ctx context.Context, s *conf.Scenario) error {
	s.Step("connecting to %s", s.Bootstrap)
	cl, err := newClient(s, "connect")
	if err != nil {
		return err
	}
	defer cl.Close()
	brokers := cl.Brokers()
	if len(brokers) != 1 {
		addrs := []string{}
		for _, b := range brokers {
			addrs = append(addrs, fmt.Sprintf("%d@%s", b.ID(), b.Addr()))
		}
		return fmt.Errorf("broker list: expected exactly 1 broker, got %d %v", len(brokers), addrs)
	}
	b := brokers[0]
	s.Fact("broker_id", b.ID())
	s.Fact("sarama_protocol_version", protocolVersion.String())
	if b.Addr() != s.Bootstrap {
		return fmt.Errorf("broker address: expected %s, got %s", s.Bootstrap, b.Addr())
	}
	if b.ID() < 0 {
		return fmt.Errorf("broker id: expected >= 0, got %d", b.ID())
	}
	if err := b.Open(cl.Config()); err != nil && !errors.Is(err, sarama.ErrAlreadyConnected) {
		return fmt.Errorf("opening broker %s: %s", b.Addr(), describe(err))
	}
	s.Step("Metadata request for the cluster id")
	md, err := b.GetMetadata(sarama.NewMetadataRequest(protocolVersion, nil))
	if err != nil {
		return fmt.Errorf("metadata request: %s", describe(err))
	}
	if md.ClusterID != nil {
		s.Fact("cluster_id", *md.ClusterID)
	}
	s.Step("ApiVersions request")
	av, err := b.ApiVersions(&sarama.ApiVersionsRequest{Version: 0})
	if err != nil {
		return fmt.Errorf("ApiVersions request: %s", describe(err))
	}
	if av.ErrorCode != 0 {
		return fmt.Errorf("ApiVersions: error code %d (%s)", av.ErrorCode, conf.KafkaName(av.ErrorCode))
	}
	ranges := map[string]string{}
	for _, k := range av.ApiKeys {
		ranges[fmt.Sprint(k.ApiKey)] = fmt.Sprintf("%d-%d", k.MinVersion, k.MaxVersion)
	}
	// Sarama does not expose the per-request versions it picks; these are the broker's ranges.
	s.Fact("broker_api_versions", ranges)
	return nil
}

func metadata(ctx context.Context, s *conf.Scenario) error {
	cl, err := newClient(s, "connect")
	if err != nil {
		return err
	}
	defer cl.Close()
	brokers := cl.Brokers()
	if len(brokers) != 1 {
		return fmt.Errorf("broker list: expected exactly 1 broker, got %d", len(brokers))
	}
	id := brokers[0].ID()
	a, err := sarama.NewClusterAdminFromClient(cl)
	if err != nil {
		return fmt.Errorf("creating the cluster admin: %s", describe(err))
	}
	defer a.Close()
	s.Step("DescribeTopics %s", s.Topic)
	tms, err := a.DescribeTopics([]string{s.Topic})
	if err != nil {
		return fmt.Errorf("DescribeTopics: %s", describe(err))
	}
	if len(tms) != 1 || tms[0].Name != s.Topic {
		return fmt.Errorf("DescribeTopics: expected one topic %s, got %d", s.Topic, len(tms))
	}
	if tms[0].Err != sarama.ErrNoError {
		return fmt.Errorf("DescribeTopics %s: %s", s.Topic, describe(tms[0].Err))
	}
	var ids []int32
	for _, p := range tms[0].Partitions {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	s.Fact("partitions", ids)
	if fmt.Sprint(ids) != "[0 1 2]" {
		return fmt.Errorf("partitions: expected [0 1 2], got %v", ids)
	}
	for _, p := range tms[0].Partitions {
		if p.Err != sarama.ErrNoError {
			return fmt.Errorf("partition %d: %s", p.ID, describe(p.Err))
		}
		if p.Leader != id || fmt.Sprint(p.Replicas) != fmt.Sprintf("[%d]", id) || fmt.Sprint(p.Isr) != fmt.Sprintf("[%d]", id) {
			return fmt.Errorf("partition %d: expected leader %d replicas [%d] isr [%d], got leader %d replicas %v isr %v",
				p.ID, id, id, id, p.Leader, p.Replicas, p.Isr)
		}
	}
	s.Step("ListTopics")
	topics, err := a.ListTopics()
	if err != nil {
		return fmt.Errorf("ListTopics: %s", describe(err))
	}
	if _, ok := topics[s.Topic]; !ok {
		return fmt.Errorf("ListTopics: %s missing from %d topics", s.Topic, len(topics))
	}
	return nil
}

func roundtrip(codec sarama.CompressionCodec) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		cfg := newConfig()
		cfg.Producer.Compression = codec
		cfg.Producer.RequiredAcks = sarama.WaitForAll
		cfg.Producer.Flush.Frequency = 5 * time.Millisecond // Sarama's linger
		cfg.Producer.Flush.Messages = 1000
		recs := conf.StandardRange(s.Name, 0, 200)
		s.Fact("compression", codec.String())
		return conf.ReadBack(s, "", recs, true, func() ([]int64, error) {
			return produce(ctx, s, cfg, s.Topic, recs, nil)
		}, func() ([]conf.Record, error) {
			return consume(ctx, s, s.Topic, 0, 0, len(recs), 200*time.Millisecond)
		})
	}
}

func maxMessageBytes(ctx context.Context, s *conf.Scenario) error {
	cfg := newConfig()
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = false
	s.Fact("client_max_message_bytes", cfg.Producer.MaxMessageBytes)
	s.Step("creating the sync producer")
	p, err := sarama.NewSyncProducer([]string{s.Bootstrap}, cfg)
	if err != nil {
		return fmt.Errorf("creating the producer: %s", describe(err))
	}
	defer p.Close()
	a := conf.Record{Key: []byte("a"), Value: bytes.Repeat([]byte("a"), 60000)}
	b := conf.Record{Key: []byte("b"), Value: bytes.Repeat([]byte("b"), 70000)}
	s.Step("producing record A (60,000 bytes)")
	_, off, err := p.SendMessage(toMessage(s.Topic, 0, a, 0))
	if err != nil {
		return fmt.Errorf("record A (60,000 bytes): expected success at offset 0, got %s", describe(err))
	}
	if off != 0 {
		return fmt.Errorf("record A: expected offset 0, got %d", off)
	}
	s.Step("producing record B (70,000 bytes)")
	_, off, err = p.SendMessage(toMessage(s.Topic, 0, b, 1))
	if err == nil {
		return fmt.Errorf("record B (70,000 bytes): expected MESSAGE_TOO_LARGE (10), got success at offset %d", off)
	}
	s.Fact("error", errName(err))
	if !errors.Is(err, sarama.ErrMessageSizeTooLarge) {
		return fmt.Errorf("record B: expected sarama.ErrMessageSizeTooLarge (MESSAGE_TOO_LARGE, code 10), got %s", describe(err))
	}
	got, err := consume(ctx, s, s.Topic, 0, 0, 1, time.Second)
	return conf.CheckOnlyRecordA(s, a, got, err)
}

func acks(level sarama.RequiredAcks) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		cfg := newConfig()
		cfg.Producer.RequiredAcks = level
		cfg.Producer.Idempotent = false
		recs := conf.StandardRange(s.Name, 0, 100)
		return conf.ReadBack(s, "", recs, false, func() ([]int64, error) {
			return produce(ctx, s, cfg, s.Topic, recs, nil)
		}, func() ([]conf.Record, error) {
			return consume(ctx, s, s.Topic, 0, 0, len(recs), 200*time.Millisecond)
		})
	}
}

func consumeEarliest(ctx context.Context, s *conf.Scenario) error {
	recs := conf.StandardRange(s.Name, 0, 20)
	if _, err := produce(ctx, s, newConfig(), s.Topic, recs, nil); err != nil {
		return err
	}
	// OffsetOldest is Sarama's "no position, reset to earliest".
	got, err := consume(ctx, s, s.Topic, 0, sarama.OffsetOldest, len(recs), 200*time.Millisecond)
	return conf.CheckConsumed(s, "read back", recs, got, err)
}

func consumeLatest(ctx context.Context, s *conf.Scenario) error {
	if _, err := produce(ctx, s, newConfig(), s.Topic, conf.StandardRange(s.Name, 0, 10), nil); err != nil {
		return err
	}
	cl, err := newClient(s, "consumer client")
	if err != nil {
		return err
	}
	defer cl.Close()
	c, err := sarama.NewConsumerFromClient(cl)
	if err != nil {
		return fmt.Errorf("creating the consumer: %s", describe(err))
	}
	defer c.Close()
	s.Step("ConsumePartition at OffsetNewest")
	// ConsumePartition resolves OffsetNewest synchronously (ListOffsets) before returning.
	pc, err := c.ConsumePartition(s.Topic, 0, sarama.OffsetNewest)
	if err != nil {
		return fmt.Errorf("ConsumePartition(OffsetNewest): %s", describe(err))
	}
	defer pc.AsyncClose()
	end, err := cl.GetOffset(s.Topic, 0, sarama.OffsetNewest)
	if err != nil {
		return fmt.Errorf("GetOffset(OffsetNewest): %s", describe(err))
	}
	s.Fact("end_offset_before", end)
	if end != 10 {
		return fmt.Errorf("end offset before producing record 10: expected 10, got %d", end)
	}
	if _, err := produce(ctx, s, newConfig(), s.Topic, conf.StandardRange(s.Name, 10, 11), nil); err != nil {
		return err
	}
	got, err := readFrom(ctx, s, pc, s.Topic, 0, 1, time.Second)
	return conf.CheckLatestRead(s, got, err)
}

func consumeTimestamp(ctx context.Context, s *conf.Scenario) error {
	var cl sarama.Client
	defer func() {
		if cl != nil {
			cl.Close()
		}
	}()
	return conf.ConsumeTimestamp(s, "GetOffset", func(recs []conf.Record) error {
		if _, err := produce(ctx, s, newConfig(), s.Topic, recs, nil); err != nil {
			return err
		}
		var err error
		cl, err = newClient(s, "client")
		return err
	}, func(ms int64) (int64, error) {
		off, err := cl.GetOffset(s.Topic, 0, ms)
		if err != nil {
			return 0, errors.New(describe(err))
		}
		return off, nil
	}, func(offset int64, n int) ([]conf.Record, error) {
		return consume(ctx, s, s.Topic, 0, offset, n, 200*time.Millisecond)
	})
}

func idempotent(ctx context.Context, s *conf.Scenario) error {
	cfg := newConfig()
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Net.MaxOpenRequests = 1 // Sarama refuses idempotence with more than 1 request in flight
	cfg.Producer.Flush.Frequency = 5 * time.Millisecond
	s.Fact("max_in_flight", 1)
	s.Fact("max_in_flight_note", "Sarama requires Net.MaxOpenRequests=1 with Producer.Idempotent")
	s.Fact("producer_id", "not exposed by Sarama")
	const n = 3000
	recs := conf.StandardRange(s.Name, 0, n)
	offsets, err := produce(ctx, s, cfg, s.Topic, recs, func(i int) int32 { return int32(i % 3) })
	s.Fact("produced", n)
	if err != nil {
		return err
	}
	if err := conf.CheckDeliveryOffsets(offsets, func(i int) int64 { return int64(i / 3) }); err != nil {
		return err
	}
	total := 0
	for p := int32(0); p < 3; p++ {
		want := conf.IdempotentWant(s, n, p)
		got, err := consume(ctx, s, s.Topic, p, 0, len(want), 200*time.Millisecond)
		total += len(got)
		s.Fact("consumed", total)
		if err != nil {
			return err
		}
		if err := conf.CompareRecords(fmt.Sprintf("partition %d", p), want, got); err != nil {
			return err
		}
	}
	return nil
}

func topicListed(a sarama.ClusterAdmin, name string) (bool, error) {
	topics, err := a.ListTopics()
	if err != nil {
		return false, err
	}
	_, ok := topics[name]
	return ok, nil
}

func partitionIDs(a sarama.ClusterAdmin, name string) ([]int32, error) {
	tms, err := a.DescribeTopics([]string{name})
	if err != nil {
		return nil, err
	}
	if len(tms) != 1 {
		return nil, fmt.Errorf("DescribeTopics returned %d topics", len(tms))
	}
	if tms[0].Err != sarama.ErrNoError {
		return nil, tms[0].Err
	}
	var ids []int32
	for _, p := range tms[0].Partitions {
		ids = append(ids, p.ID)
	}
	slices.Sort(ids)
	return ids, nil
}

// topicAdmin is a as the admin-topics and admin-partitions scenarios use it.
func topicAdmin(a sarama.ClusterAdmin) *conf.TopicAdmin {
	return &conf.TopicAdmin{
		Create: func(_ context.Context, name string, partitions int32, configs map[string]*string) error {
			return a.CreateTopic(name, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1, ConfigEntries: configs}, false)
		},
		Delete:       func(_ context.Context, name string) error { return a.DeleteTopic(name) },
		Listed:       func(_ context.Context, name string) (bool, error) { return topicListed(a, name) },
		PartitionIDs: func(_ context.Context, name string) ([]int32, error) { return partitionIDs(a, name) },
		SetPartitions: func(_ context.Context, name string, n int) error {
			return a.CreatePartitions(name, int32(n), nil, false)
		},
		DescribeCall: "DescribeTopics", DescribeError: "DescribeTopics", SetPartitionsCall: "CreatePartitions",
		TopicExists: conf.ExpectedError{Name: "sarama.ErrTopicAlreadyExists (TOPIC_ALREADY_EXISTS, code 36)",
			Is: func(err error) bool { return errors.Is(err, sarama.ErrTopicAlreadyExists) }},
		InvalidPartitions: conf.ExpectedError{Name: "sarama.ErrInvalidPartitions (INVALID_PARTITIONS, code 37)",
			Is: func(err error) bool { return errors.Is(err, sarama.ErrInvalidPartitions) }},
		ErrName:  errName,
		Describe: describe,
	}
}

// withTopicAdmin runs a TopicAdmin scenario with a new cluster admin.
func withTopicAdmin(run func(*conf.TopicAdmin, context.Context, *conf.Scenario) error) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		a, err := newAdmin(s)
		if err != nil {
			return err
		}
		defer a.Close()
		return run(topicAdmin(a), ctx, s)
	}
}

func findEntry(entries []sarama.ConfigEntry, name string) *sarama.ConfigEntry {
	for i := range entries {
		if entries[i].Name == name {
			return &entries[i]
		}
	}
	return nil
}

func adminConfigs(ctx context.Context, s *conf.Scenario) error {
	a, err := newAdmin(s)
	if err != nil {
		return err
	}
	defer a.Close()
	name := s.TopicFor("admin-configs-new")
	drop, err := topicAdmin(a).CreateTemporary(ctx, s, name)
	if err != nil {
		return err
	}
	defer drop()
	res := sarama.ConfigResource{Type: sarama.TopicResource, Name: name}
	s.Step("DescribeConfig %s", name)
	var entries []sarama.ConfigEntry
	_, _ = conf.WaitFor(ctx, 5*time.Second, func() (bool, error) {
		entries, err = a.DescribeConfig(res)
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("DescribeConfig %s: %s", name, describe(err))
	}
	e := findEntry(entries, "retention.ms")
	if e == nil {
		return fmt.Errorf("DescribeConfig %s: retention.ms missing (%d entries)", name, len(entries))
	}
	s.Fact("retention_before", map[string]any{"value": e.Value, "source": e.Source.String(), "default": e.Default})
	if e.Value != "604800000" || e.Source != sarama.SourceDefault {
		return fmt.Errorf("DescribeConfig retention.ms: expected 604800000 source DEFAULT_CONFIG, got %s source %s", e.Value, e.Source)
	}
	retention, compact := "3600000", "compact"
	s.Fact("alter_api", "IncrementalAlterConfigs")
	s.Step("IncrementalAlterConfig %s", name)
	err = a.IncrementalAlterConfig(sarama.TopicResource, name, map[string]sarama.IncrementalAlterConfigsEntry{
		"retention.ms":   {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &retention},
		"cleanup.policy": {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &compact},
	}, false)
	if err != nil {
		return fmt.Errorf("IncrementalAlterConfig %s: %s", name, describe(err))
	}
	s.Step("DescribeConfig %s after alter", name)
	var check error
	_, _ = conf.WaitFor(ctx, 5*time.Second, func() (bool, error) {
		entries, err := a.DescribeConfig(res)
		if err != nil {
			check = fmt.Errorf("DescribeConfig after alter: %s", describe(err))
			return false, nil
		}
		r, c := findEntry(entries, "retention.ms"), findEntry(entries, "cleanup.policy")
		switch {
		case r == nil || c == nil:
			check = fmt.Errorf("DescribeConfig after alter: retention.ms or cleanup.policy missing")
		case r.Value != "3600000" || r.Source != sarama.SourceTopic:
			check = fmt.Errorf("DescribeConfig after alter: retention.ms expected 3600000 source DYNAMIC_TOPIC_CONFIG, got %s source %s", r.Value, r.Source)
		case c.Value != "compact":
			check = fmt.Errorf("DescribeConfig after alter: cleanup.policy expected compact, got %s", c.Value)
		default:
			s.Fact("retention_after", map[string]any{"value": r.Value, "source": r.Source.String()})
			check = nil
		}
		return check == nil, nil
	})
	return check
}

func adminRecords(ctx context.Context, s *conf.Scenario) error {
	recs := conf.StandardRange(s.Name, 0, 10)
	if _, err := produce(ctx, s, newConfig(), s.Topic, recs, nil); err != nil {
		return err
	}
	cl, err := newClient(s, "client")
	if err != nil {
		return err
	}
	defer cl.Close()
	a, err := sarama.NewClusterAdminFromClient(cl)
	if err != nil {
		return fmt.Errorf("creating the cluster admin: %s", describe(err))
	}
	defer a.Close()
	listed := map[string]int64{}
	list := func(label string, query, want int64) error {
		s.Step("ListOffsets %s", label)
		res, err := a.ListOffsets(map[string]map[int32]int64{s.Topic: {0: query}}, nil)
		if err != nil {
			return fmt.Errorf("ListOffsets %s: %s", label, describe(err))
		}
		r := res[s.Topic][0]
		if r == nil {
			return fmt.Errorf("ListOffsets %s: no result for partition 0", label)
		}
		if r.Err != nil && !errors.Is(r.Err, sarama.ErrNoError) {
			return fmt.Errorf("ListOffsets %s: %s", label, describe(r.Err))
		}
		listed[label] = r.Offset
		s.Fact("list_offsets", listed)
		if r.Offset != want {
			return fmt.Errorf("ListOffsets %s: expected %d, got %d", label, want, r.Offset)
		}
		return nil
	}
	if err := list("earliest", sarama.OffsetOldest, 0); err != nil {
		return err
	}
	if err := list("latest", sarama.OffsetNewest, 10); err != nil {
		return err
	}
	if err := list("T0+3000", conf.T0+3000, 3); err != nil {
		return err
	}
	// ClusterAdmin.DeleteRecords hides the low watermark: send the same request to the leader.
	s.Step("DeleteRecords before offset 4")
	leader, err := cl.Leader(s.Topic, 0)
	if err != nil {
		return fmt.Errorf("leader of %s[0]: %s", s.Topic, describe(err))
	}
	resp, err := leader.DeleteRecords(&sarama.DeleteRecordsRequest{
		Version: 2, Timeout: 30 * time.Second,
		Topics: map[string]*sarama.DeleteRecordsRequestTopic{s.Topic: {PartitionOffsets: map[int32]int64{0: 4}}},
	})
	if err != nil {
		return fmt.Errorf("DeleteRecords: %s", describe(err))
	}
	t := resp.Topics[s.Topic]
	if t == nil || t.Partitions[0] == nil {
		return fmt.Errorf("DeleteRecords: no result for %s[0]", s.Topic)
	}
	pr := t.Partitions[0]
	s.Fact("low_watermark", pr.LowWatermark)
	if pr.Err != sarama.ErrNoError {
		return fmt.Errorf("DeleteRecords: %s", describe(pr.Err))
	}
	if pr.LowWatermark != 4 {
		return fmt.Errorf("DeleteRecords: low watermark expected 4, got %d", pr.LowWatermark)
	}
	if err := list("earliest after delete", sarama.OffsetOldest, 4); err != nil {
		return err
	}
	got, err := consume(ctx, s, s.Topic, 0, listed["earliest after delete"], 6, 200*time.Millisecond)
	return conf.CheckConsumed(s, "read back from the earliest offset", recs[4:], got, err)
}

func restartProduce(ctx context.Context, s *conf.Scenario) error {
	cfg := newConfig()
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	recs := conf.StandardRange("restart", 0, 100)
	offsets, err := produce(ctx, s, cfg, s.Topic, recs, nil)
	s.Fact("produced", len(recs))
	if err != nil {
		return err
	}
	return conf.CheckDeliveryOffsets(offsets, nil)
}

func restartConsume(ctx context.Context, s *conf.Scenario) error {
	recs := conf.StandardRange("restart", 0, 100)
	got, err := consume(ctx, s, s.Topic, 0, 0, len(recs), 200*time.Millisecond)
	return conf.CheckConsumed(s, "read back", recs, got, err)
}
