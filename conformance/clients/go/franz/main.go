// Command franz-driver runs the conformance scenarios (conformance/SCENARIOS.md) with twmb/franz-go (kgo + kadm).
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/chronik/conformance/clients/go/internal/conf"
)

var stderr = os.Stderr

func main() {
	scenarios := map[string]conf.Func{
		"connect":                 connect,
		"metadata":                metadata,
		"max-message-bytes":       maxMessageBytes,
		"acks-0":                  acks(kgo.NoAck()),
		"acks-1":                  acks(kgo.LeaderAck()),
		"acks-all":                acks(kgo.AllISRAcks()),
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
	for name, codec := range map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	} {
		scenarios["roundtrip-"+name] = roundtrip(name, codec)
	}
	conf.Main("franz-go", "github.com/twmb/franz-go", scenarios)
}

// ---------------------------------------------------------------------------------------------
// helpers

// errName names a franz-go error: the kerr name and Kafka code for broker errors, else its Go type.
func errName(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return fmt.Sprintf("kerr.%s (code %d)", ke.Message, ke.Code)
	}
	return fmt.Sprintf("%T", err)
}

func describe(err error) string {
	return fmt.Sprintf("%v [%s]", err, errName(err))
}

func baseOpts(s *conf.Scenario) []kgo.Opt {
	return append([]kgo.Opt{
		kgo.SeedBrokers(s.Bootstrap),
		kgo.ClientID("chronik-conformance-franz-go"),
		kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelWarn, func() string { return "[franz-go] " })),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.FetchMaxWait(500 * time.Millisecond),
		kgo.RetryTimeout(30 * time.Second),
	}, secureOpts...)
}

func newClient(s *conf.Scenario, what string, opts ...kgo.Opt) (*kgo.Client, error) {
	cl, err := kgo.NewClient(append(baseOpts(s), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating the %s: %s", what, describe(err))
	}
	return cl, nil
}

func toRecord(topic string, partition int32, r conf.Record) *kgo.Record {
	kr := &kgo.Record{Topic: topic, Partition: partition, Key: r.Key, Value: r.Value}
	for _, h := range r.Headers {
		kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: []byte(h.Value)})
	}
	if r.Timestamp != 0 {
		kr.Timestamp = time.UnixMilli(r.Timestamp)
	}
	return kr
}

func fromRecord(kr *kgo.Record) conf.Record {
	r := conf.Record{Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp.UnixMilli(), Partition: kr.Partition, Offset: kr.Offset}
	if r.Key == nil {
		r.Key = []byte{}
	}
	for _, h := range kr.Headers {
		r.Headers = append(r.Headers, conf.Header{Key: h.Key, Value: string(h.Value)})
	}
	return r
}

// produce sends recs (record i to partitionOf(i)) with a new client built from opts, waits for all
// deliveries and returns the delivery offsets.
func produce(ctx context.Context, s *conf.Scenario, topic string, recs []conf.Record, partitionOf func(int) int32, opts ...kgo.Opt) ([]int64, error) {
	cl, err := newClient(s, "producer", opts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return produceWith(ctx, s, cl, topic, recs, partitionOf)
}

func produceWith(ctx context.Context, s *conf.Scenario, cl *kgo.Client, topic string, recs []conf.Record, partitionOf func(int) int32) ([]int64, error) {
	krs := make([]*kgo.Record, len(recs))
	for i, r := range recs {
		p := int32(0)
		if partitionOf != nil {
			p = partitionOf(i)
		}
		krs[i] = toRecord(topic, p, r)
	}
	s.Step("producing %d records to %s", len(recs), topic)
	results := cl.ProduceSync(ctx, krs...)
	for i, res := range results {
		if res.Err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("timeout: awaiting deliveries (%s)", describe(res.Err))
			}
			return nil, fmt.Errorf("delivery of record %d failed: %s", i, describe(res.Err))
		}
	}
	offsets := make([]int64, len(krs))
	for i, kr := range krs {
		offsets[i] = kr.Offset
	}
	return offsets, nil
}

// consume reads n records of topic/partition starting at offset with a new client, then keeps
// polling for `extra` to catch records that should not be there.
func consume(ctx context.Context, s *conf.Scenario, topic string, partition int32, offset kgo.Offset, n int, extra time.Duration) ([]conf.Record, error) {
	cl, err := newClient(s, "consumer", kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: offset}}))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return readFrom(ctx, s, cl, fmt.Sprintf("%s[%d]", topic, partition), n, extra)
}

func pollErr(fs kgo.Fetches) error {
	var out error
	fs.EachError(func(t string, p int32, err error) {
		if out == nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			out = fmt.Errorf("fetch %s[%d]: %s", t, p, describe(err))
		}
	})
	return out
}

func readFrom(ctx context.Context, s *conf.Scenario, cl *kgo.Client, what string, n int, extra time.Duration) ([]conf.Record, error) {
	var out []conf.Record
	s.Step("consuming %d records from %s", n, what)
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("timeout: awaiting records from %s (%d of %d read)", what, len(out), n)
		}
		if err := pollErr(fs); err != nil {
			return out, fmt.Errorf("after %d records: %w", len(out), err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, fromRecord(r)) })
	}
	if extra > 0 {
		ectx, cancel := context.WithTimeout(ctx, extra)
		defer cancel()
		for ectx.Err() == nil {
			fs := cl.PollFetches(ectx)
			if err := pollErr(fs); err != nil {
				return out, fmt.Errorf("after %d records: %w", len(out), err)
			}
			fs.EachRecord(func(r *kgo.Record) { out = append(out, fromRecord(r)) })
		}
	}
	return out, nil
}

func newAdmin(s *conf.Scenario) (*kadm.Client, error) {
	// kgo answers admin Metadata requests from a cache younger than MetadataMinAge (5 s by default).
	cl, err := newClient(s, "admin client", kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

func listed(ctx context.Context, adm *kadm.Client, name string) (bool, error) {
	td, err := adm.ListTopics(ctx)
	if err != nil {
		return false, err
	}
	_, ok := td[name]
	return ok, nil
}

func partitionIDs(ctx context.Context, adm *kadm.Client, name string) ([]int32, error) {
	md, err := adm.Metadata(ctx, name)
	if err != nil {
		return nil, err
	}
	t, ok := md.Topics[name]
	if !ok {
		return nil, fmt.Errorf("topic %s not in the metadata response", name)
	}
	if t.Err != nil {
		return nil, t.Err
	}
	ids := t.Partitions.Numbers()
	slices.Sort(ids)
	return ids, nil
}

// ---------------------------------------------------------------------------------------------
// scenarios

func connect(ctx context.Context, s *conf.Scenario) error {
	adm, err := newAdmin(s)
	if err != nil {
		return err
	}
	defer adm.Close()
	s.Step("Metadata (brokers)")
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return fmt.Errorf("BrokerMetadata: %s", describe(err))
	}
	s.Fact("cluster_id", md.Cluster)
	if len(md.Brokers) != 1 {
		return fmt.Errorf("broker list: expected exactly 1 broker, got %d %v", len(md.Brokers), md.Brokers)
	}
	b := md.Brokers[0]
	s.Fact("broker_id", b.NodeID)
	addr := net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	if addr != s.Bootstrap {
		return fmt.Errorf("broker address: expected %s, got %s", s.Bootstrap, addr)
	}
	if b.NodeID < 0 {
		return fmt.Errorf("broker id: expected >= 0, got %d", b.NodeID)
	}
	s.Step("ApiVersions")
	avs, err := adm.ApiVersions(ctx)
	if err != nil {
		return fmt.Errorf("ApiVersions: %s", describe(err))
	}
	av, ok := avs[b.NodeID]
	if !ok || av.Err != nil {
		return fmt.Errorf("ApiVersions from broker %d: %v", b.NodeID, av.Err)
	}
	// kgo sends each request at min(broker max, kgo's max for the key).
	stable := kversion.Stable()
	negotiated := map[string]int16{}
	av.EachKeySorted(func(key, _, max int16) {
		req := kmsg.RequestForKey(key)
		cmax, ok := stable.LookupMaxKeyVersion(key)
		if req == nil || !ok {
			return
		}
		negotiated[kmsg.NameForKey(key)] = min(max, cmax, req.MaxVersion())
	})
	s.Fact("api_versions", negotiated)
	return nil
}

func metadata(ctx context.Context, s *conf.Scenario) error {
	adm, err := newAdmin(s)
	if err != nil {
		return err
	}
	defer adm.Close()
	s.Step("Metadata %s", s.Topic)
	md, err := adm.Metadata(ctx, s.Topic)
	if err != nil {
		return fmt.Errorf("Metadata: %s", describe(err))
	}
	if len(md.Brokers) != 1 {
		return fmt.Errorf("broker list: expected exactly 1 broker, got %d", len(md.Brokers))
	}
	id := md.Brokers[0].NodeID
	t, ok := md.Topics[s.Topic]
	if !ok {
		return fmt.Errorf("Metadata: %s missing from the response", s.Topic)
	}
	if t.Err != nil {
		return fmt.Errorf("Metadata %s: %s", s.Topic, describe(t.Err))
	}
	ids := t.Partitions.Numbers()
	slices.Sort(ids)
	s.Fact("partitions", ids)
	if fmt.Sprint(ids) != "[0 1 2]" {
		return fmt.Errorf("partitions: expected [0 1 2], got %v", ids)
	}
	for _, p := range t.Partitions.Sorted() {
		if p.Err != nil {
			return fmt.Errorf("partition %d: %s", p.Partition, describe(p.Err))
		}
		one := fmt.Sprintf("[%d]", id)
		if p.Leader != id || fmt.Sprint(p.Replicas) != one || fmt.Sprint(p.ISR) != one {
			return fmt.Errorf("partition %d: expected leader %d replicas %s isr %s, got leader %d replicas %v isr %v",
				p.Partition, id, one, one, p.Leader, p.Replicas, p.ISR)
		}
	}
	s.Step("ListTopics")
	ok, err = listed(ctx, adm, s.Topic)
	if err != nil {
		return fmt.Errorf("ListTopics: %s", describe(err))
	}
	if !ok {
		return fmt.Errorf("ListTopics: %s missing", s.Topic)
	}
	return nil
}

func roundtrip(name string, codec kgo.CompressionCodec) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		recs := conf.StandardRange(s.Name, 0, 200)
		s.Fact("compression", name)
		return conf.ReadBack(s, "", recs, true, func() ([]int64, error) {
			return produce(ctx, s, s.Topic, recs, nil,
				kgo.ProducerBatchCompression(codec), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(5*time.Millisecond))
		}, func() ([]conf.Record, error) {
			return consume(ctx, s, s.Topic, 0, kgo.NewOffset().At(0), len(recs), 200*time.Millisecond)
		})
	}
}

func maxMessageBytes(ctx context.Context, s *conf.Scenario) error {
	cl, err := newClient(s, "producer", kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	a := conf.Record{Key: []byte("a"), Value: bytes.Repeat([]byte("a"), 60000)}
	b := conf.Record{Key: []byte("b"), Value: bytes.Repeat([]byte("b"), 70000)}
	s.Step("producing record A (60,000 bytes)")
	resA := cl.ProduceSync(ctx, toRecord(s.Topic, 0, a))
	ra, err := resA.First()
	if err != nil {
		return fmt.Errorf("record A (60,000 bytes): expected success at offset 0, got %s", describe(err))
	}
	if ra.Offset != 0 {
		return fmt.Errorf("record A: expected offset 0, got %d", ra.Offset)
	}
	s.Step("producing record B (70,000 bytes)")
	rb, err := cl.ProduceSync(ctx, toRecord(s.Topic, 0, b)).First()
	if err == nil {
		return fmt.Errorf("record B (70,000 bytes): expected MESSAGE_TOO_LARGE (10), got success at offset %d", rb.Offset)
	}
	s.Fact("error", errName(err))
	if !errors.Is(err, kerr.MessageTooLarge) {
		return fmt.Errorf("record B: expected kerr.MESSAGE_TOO_LARGE (code 10), got %s", describe(err))
	}
	got, err := consume(ctx, s, s.Topic, 0, kgo.NewOffset().At(0), 1, time.Second)
	return conf.CheckOnlyRecordA(s, a, got, err)
}

func acks(level kgo.Acks) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		opts := []kgo.Opt{kgo.RequiredAcks(level), kgo.ProducerBatchCompression(kgo.NoCompression())}
		if level != kgo.AllISRAcks() {
			opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(1))
		}
		recs := conf.StandardRange(s.Name, 0, 100)
		return conf.ReadBack(s, "", recs, false, func() ([]int64, error) {
			return produce(ctx, s, s.Topic, recs, nil, opts...)
		}, func() ([]conf.Record, error) {
			return consume(ctx, s, s.Topic, 0, kgo.NewOffset().At(0), len(recs), 200*time.Millisecond)
		})
	}
}

func consumeEarliest(ctx context.Context, s *conf.Scenario) error {
	recs := conf.StandardRange(s.Name, 0, 20)
	if _, err := produce(ctx, s, s.Topic, recs, nil); err != nil {
		return err
	}
	// ConsumeTopics without a group: every partition starts from the reset offset.
	cl, err := newClient(s, "consumer", kgo.ConsumeTopics(s.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer cl.Close()
	got, err := readFrom(ctx, s, cl, s.Topic, len(recs), 200*time.Millisecond)
	return conf.CheckConsumed(s, "read back", recs, got, err)
}

type fetchHook struct{ fetched chan struct{} }

func (h *fetchHook) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == int16(kmsg.Fetch) && err == nil {
		select {
		case h.fetched <- struct{}{}:
		default:
		}
	}
}

func consumeLatest(ctx context.Context, s *conf.Scenario) error {
	if _, err := produce(ctx, s, s.Topic, conf.StandardRange(s.Name, 0, 10), nil); err != nil {
		return err
	}
	hook := &fetchHook{fetched: make(chan struct{}, 1)}
	cl, err := newClient(s, "consumer", kgo.ConsumeTopics(s.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.WithHooks(hook))
	if err != nil {
		return err
	}
	defer cl.Close()
	// kgo resolves the end offset (ListOffsets) before its first Fetch: a Fetch on the wire means
	// the position is resolved. Nudge the client with a short poll, then wait for the hook.
	s.Step("waiting for the consumer to resolve its position (first Fetch)")
	pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	early := cl.PollFetches(pctx)
	cancel()
	if err := pollErr(early); err != nil {
		return err
	}
	if n := early.NumRecords(); n != 0 {
		return fmt.Errorf("consumer at end read %d records before record 10 was produced", n)
	}
	select {
	case <-hook.fetched:
	case <-ctx.Done():
		return fmt.Errorf("timeout: awaiting the consumer's first Fetch (position resolution)")
	}
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, s.Topic)
	if err != nil {
		return fmt.Errorf("ListEndOffsets: %s", describe(err))
	}
	end, _ := ends.Lookup(s.Topic, 0)
	s.Fact("end_offset_before", end.Offset)
	if end.Offset != 10 {
		return fmt.Errorf("end offset before producing record 10: expected 10, got %d", end.Offset)
	}
	if _, err := produce(ctx, s, s.Topic, conf.StandardRange(s.Name, 10, 11), nil); err != nil {
		return err
	}
	got, err := readFrom(ctx, s, cl, s.Topic, 1, time.Second)
	return conf.CheckLatestRead(s, got, err)
}

func offsetAfter(ctx context.Context, adm *kadm.Client, topic string, ms int64) (int64, error) {
	lo, err := adm.ListOffsetsAfterMilli(ctx, ms, topic)
	if err != nil {
		return 0, err
	}
	o, ok := lo.Lookup(topic, 0)
	if !ok {
		return 0, fmt.Errorf("no result for %s[0]", topic)
	}
	return o.Offset, o.Err
}

func consumeTimestamp(ctx context.Context, s *conf.Scenario) error {
	adm, err := newAdmin(s)
	if err != nil {
		return err
	}
	defer adm.Close()
	// kadm reports "no such offset" as the end offset (10) or -1.
	return conf.ConsumeTimestamp(s, "ListOffsetsAfterMilli", func(recs []conf.Record) error {
		_, err := produce(ctx, s, s.Topic, recs, nil)
		return err
	}, func(ms int64) (int64, error) {
		off, err := offsetAfter(ctx, adm, s.Topic, ms)
		if err != nil {
			return 0, errors.New(describe(err))
		}
		return off, nil
	}, func(offset int64, n int) ([]conf.Record, error) {
		return consume(ctx, s, s.Topic, 0, kgo.NewOffset().At(offset), n, 200*time.Millisecond)
	})
}

func idempotent(ctx context.Context, s *conf.Scenario) error {
	cl, err := newClient(s, "producer", kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	const n = 3000
	recs := conf.StandardRange(s.Name, 0, n)
	offsets, err := produceWith(ctx, s, cl, s.Topic, recs, func(i int) int32 { return int32(i % 3) })
	s.Fact("produced", n)
	s.Fact("max_in_flight", "5 (kgo's fixed limit with idempotence against Kafka >= 1.0)")
	if id, epoch, perr := cl.ProducerID(ctx); perr == nil {
		s.Fact("producer_id", id)
		s.Fact("producer_epoch", epoch)
	}
	if err != nil {
		return err
	}
	if err := conf.CheckDeliveryOffsets(offsets, func(i int) int64 { return int64(i / 3) }); err != nil {
		return err
	}
	starts := map[int32]kgo.Offset{0: kgo.NewOffset().At(0), 1: kgo.NewOffset().At(0), 2: kgo.NewOffset().At(0)}
	cc, err := newClient(s, "consumer", kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.Topic: starts}))
	if err != nil {
		return err
	}
	defer cc.Close()
	got, err := readFrom(ctx, s, cc, s.Topic+"[0,1,2]", n, 300*time.Millisecond)
	s.Fact("consumed", len(got))
	if err != nil {
		return err
	}
	for p := int32(0); p < 3; p++ {
		var have []conf.Record
		for _, r := range got {
			if r.Partition == p {
				have = append(have, r)
			}
		}
		if err := conf.CompareRecords(fmt.Sprintf("partition %d", p), conf.IdempotentWant(s, n, p), have); err != nil {
			return err
		}
	}
	return nil
}

// topicAdmin is adm as the admin-topics and admin-partitions scenarios use it.
func topicAdmin(adm *kadm.Client) *conf.TopicAdmin {
	return &conf.TopicAdmin{
		Create: func(ctx context.Context, name string, partitions int32, configs map[string]*string) error {
			_, err := adm.CreateTopic(ctx, partitions, 1, configs, name)
			return err
		},
		Delete: func(ctx context.Context, name string) error {
			_, err := adm.DeleteTopic(ctx, name)
			return err
		},
		Listed: func(ctx context.Context, name string) (bool, error) { return listed(ctx, adm, name) },
		PartitionIDs: func(ctx context.Context, name string) ([]int32, error) {
			return partitionIDs(ctx, adm, name)
		},
		SetPartitions: func(ctx context.Context, name string, n int) error {
			rs, err := adm.UpdatePartitions(ctx, n, name)
			if err != nil {
				return err
			}
			r, err := rs.On(name, nil)
			if err != nil {
				return err
			}
			return r.Err
		},
		DescribeCall: "Metadata", DescribeError: "describing", SetPartitionsCall: "UpdatePartitions",
		TopicExists: conf.ExpectedError{Name: "kerr.TOPIC_ALREADY_EXISTS (code 36)",
			Is: func(err error) bool { return errors.Is(err, kerr.TopicAlreadyExists) }},
		InvalidPartitions: conf.ExpectedError{Name: "kerr.INVALID_PARTITIONS (code 37)",
			Is: func(err error) bool { return errors.Is(err, kerr.InvalidPartitions) }},
		ErrName:  errName,
		Describe: describe,
	}
}

// withTopicAdmin runs a TopicAdmin scenario with a new admin client.
func withTopicAdmin(run func(*conf.TopicAdmin, context.Context, *conf.Scenario) error) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		adm, err := newAdmin(s)
		if err != nil {
			return err
		}
		defer adm.Close()
		return run(topicAdmin(adm), ctx, s)
	}
}

func topicConfig(ctx context.Context, adm *kadm.Client, name string) (map[string]kadm.Config, error) {
	rcs, err := adm.DescribeTopicConfigs(ctx, name)
	if err != nil {
		return nil, err
	}
	rc, err := rcs.On(name, nil)
	if err != nil {
		return nil, err
	}
	if rc.Err != nil {
		return nil, rc.Err
	}
	out := map[string]kadm.Config{}
	for _, c := range rc.Configs {
		out[c.Key] = c
	}
	return out, nil
}

func adminConfigs(ctx context.Context, s *conf.Scenario) error {
	adm, err := newAdmin(s)
	if err != nil {
		return err
	}
	defer adm.Close()
	name := s.TopicFor("admin-configs-new")
	drop, err := topicAdmin(adm).CreateTemporary(ctx, s, name)
	if err != nil {
		return err
	}
	defer drop()
	s.Step("DescribeTopicConfigs %s", name)
	var cfg map[string]kadm.Config
	_, _ = conf.WaitFor(ctx, 5*time.Second, func() (bool, error) { cfg, err = topicConfig(ctx, adm, name); return err == nil, nil })
	if err != nil {
		return fmt.Errorf("DescribeTopicConfigs %s: %s", name, describe(err))
	}
	r, ok := cfg["retention.ms"]
	if !ok {
		return fmt.Errorf("DescribeTopicConfigs %s: retention.ms missing (%d entries)", name, len(cfg))
	}
	s.Fact("retention_before", map[string]any{"value": r.MaybeValue(), "source": r.Source.String()})
	if r.MaybeValue() != "604800000" || r.Source != kmsg.ConfigSourceDefaultConfig {
		return fmt.Errorf("DescribeTopicConfigs retention.ms: expected 604800000 source DEFAULT_CONFIG, got %s source %s", r.MaybeValue(), r.Source)
	}
	retention, compact := "3600000", "compact"
	s.Fact("alter_api", "IncrementalAlterConfigs")
	s.Step("AlterTopicConfigs %s", name)
	resps, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: &retention},
		{Op: kadm.SetConfig, Name: "cleanup.policy", Value: &compact},
	}, name)
	if err == nil {
		var resp kadm.AlterConfigsResponse
		resp, err = resps.On(name, nil)
		if err == nil {
			err = resp.Err
		}
	}
	if err != nil {
		return fmt.Errorf("AlterTopicConfigs (IncrementalAlterConfigs) %s: %s", name, describe(err))
	}
	s.Step("DescribeTopicConfigs %s after alter", name)
	var check error
	_, _ = conf.WaitFor(ctx, 5*time.Second, func() (bool, error) {
		cfg, err := topicConfig(ctx, adm, name)
		if err != nil {
			check = fmt.Errorf("DescribeTopicConfigs after alter: %s", describe(err))
			return false, nil
		}
		r, rok := cfg["retention.ms"]
		c, cok := cfg["cleanup.policy"]
		switch {
		case !rok || !cok:
			check = fmt.Errorf("DescribeTopicConfigs after alter: retention.ms or cleanup.policy missing")
		case r.MaybeValue() != "3600000" || r.Source != kmsg.ConfigSourceDynamicTopicConfig:
			check = fmt.Errorf("DescribeTopicConfigs after alter: retention.ms expected 3600000 source DYNAMIC_TOPIC_CONFIG, got %s source %s", r.MaybeValue(), r.Source)
		case c.MaybeValue() != "compact":
			check = fmt.Errorf("DescribeTopicConfigs after alter: cleanup.policy expected compact, got %s", c.MaybeValue())
		default:
			s.Fact("retention_after", map[string]any{"value": r.MaybeValue(), "source": r.Source.String()})
			check = nil
		}
		return check == nil, nil
	})
	return check
}

func adminRecords(ctx context.Context, s *conf.Scenario) error {
	recs := conf.StandardRange(s.Name, 0, 10)
	if _, err := produce(ctx, s, s.Topic, recs, nil); err != nil {
		return err
	}
	adm, err := newAdmin(s)
	if err != nil {
		return err
	}
	defer adm.Close()
	got := map[string]int64{}
	check := func(label string, lo kadm.ListedOffsets, err error, want int64) error {
		if err != nil {
			return fmt.Errorf("ListOffsets %s: %s", label, describe(err))
		}
		o, ok := lo.Lookup(s.Topic, 0)
		if !ok {
			return fmt.Errorf("ListOffsets %s: no result for partition 0", label)
		}
		if o.Err != nil {
			return fmt.Errorf("ListOffsets %s: %s", label, describe(o.Err))
		}
		got[label] = o.Offset
		s.Fact("list_offsets", got)
		if o.Offset != want {
			return fmt.Errorf("ListOffsets %s: expected %d, got %d", label, want, o.Offset)
		}
		return nil
	}
	s.Step("ListStartOffsets")
	lo, err := adm.ListStartOffsets(ctx, s.Topic)
	if err := check("earliest", lo, err, 0); err != nil {
		return err
	}
	s.Step("ListEndOffsets")
	lo, err = adm.ListEndOffsets(ctx, s.Topic)
	if err := check("latest", lo, err, 10); err != nil {
		return err
	}
	s.Step("ListOffsetsAfterMilli(T0+3000)")
	lo, err = adm.ListOffsetsAfterMilli(ctx, conf.T0+3000, s.Topic)
	if err := check("T0+3000", lo, err, 3); err != nil {
		return err
	}
	s.Step("DeleteRecords before offset 4")
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: s.Topic, Partition: 0, At: 4, LeaderEpoch: -1})
	drs, err := adm.DeleteRecords(ctx, os)
	if err != nil {
		return fmt.Errorf("DeleteRecords: %s", describe(err))
	}
	dr, ok := drs.Lookup(s.Topic, 0)
	if !ok {
		return fmt.Errorf("DeleteRecords: no result for %s[0]", s.Topic)
	}
	s.Fact("low_watermark", dr.LowWatermark)
	if dr.Err != nil {
		return fmt.Errorf("DeleteRecords: %s", describe(dr.Err))
	}
	if dr.LowWatermark != 4 {
		return fmt.Errorf("DeleteRecords: low watermark expected 4, got %d", dr.LowWatermark)
	}
	s.Step("ListStartOffsets after delete")
	lo, err = adm.ListStartOffsets(ctx, s.Topic)
	if err := check("earliest after delete", lo, err, 4); err != nil {
		return err
	}
	read, err := consume(ctx, s, s.Topic, 0, kgo.NewOffset().At(got["earliest after delete"]), 6, 200*time.Millisecond)
	return conf.CheckConsumed(s, "read back from the earliest offset", recs[4:], read, err)
}

func restartProduce(ctx context.Context, s *conf.Scenario) error {
	recs := conf.StandardRange("restart", 0, 100)
	offsets, err := produce(ctx, s, s.Topic, recs, nil, kgo.RequiredAcks(kgo.AllISRAcks()))
	s.Fact("produced", len(recs))
	if err != nil {
		return err
	}
	return conf.CheckDeliveryOffsets(offsets, nil)
}

func restartConsume(ctx context.Context, s *conf.Scenario) error {
	recs := conf.StandardRange("restart", 0, 100)
	got, err := consume(ctx, s, s.Topic, 0, kgo.NewOffset().At(0), len(recs), 200*time.Millisecond)
	return conf.CheckConsumed(s, "read back", recs, got, err)
}
