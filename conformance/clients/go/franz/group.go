package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/chronik/conformance/clients/go/internal/conf"
)

// franzGroup implements conf.GroupClient with kgo group consumers.
type franzGroup struct {
	s        *conf.Scenario
	opts     []kgo.Opt // balancer / protocol options for every member
	producer *kgo.Client
}

func newFranzGroup(s *conf.Scenario, opts ...kgo.Opt) (*franzGroup, error) {
	p, err := newClient(s, "producer", kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		return nil, err
	}
	return &franzGroup{s: s, opts: opts, producer: p}, nil
}

func (g *franzGroup) close() { g.producer.Close() }

func (g *franzGroup) Produce(ctx context.Context, recs []conf.Record, partitionOf func(int) int32) error {
	_, err := produceWith(ctx, g.s, g.producer, g.s.Topic, recs, partitionOf)
	return err
}

type franzMember struct {
	name    string
	log     *conf.GroupLog
	cl      *kgo.Client
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	closing atomic.Bool
}

func (g *franzGroup) Start(ctx context.Context, name, instanceID string, log *conf.GroupLog) (conf.GroupMember, error) {
	m := &franzMember{name: name, log: log, done: make(chan struct{})}
	topic := g.s.Topic
	opts := []kgo.Opt{
		kgo.ConsumerGroup(g.s.Prefix + "." + g.s.Name),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			log.Assigned(name, a[topic])
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) {
			if !m.closing.Load() && len(r[topic]) > 0 {
				log.Revoked(name, r[topic])
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			if len(l[topic]) > 0 {
				log.Lost(name, l[topic])
			}
		}),
	}
	if instanceID != "" {
		opts = append(opts, kgo.InstanceID(instanceID), kgo.SessionTimeout(30*time.Second))
	}
	cl, err := newClient(g.s, "group consumer "+name, append(opts, g.opts...)...)
	if err != nil {
		return nil, err
	}
	m.cl = cl
	mctx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	go m.loop(mctx)
	return m, nil
}

// loop polls, records what it got, commits synchronously, then lets a pending rebalance proceed.
func (m *franzMember) loop(ctx context.Context) {
	defer close(m.done)
	for ctx.Err() == nil {
		fs := m.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			m.cl.AllowRebalance()
			return
		}
		if err := pollErr(fs); err != nil {
			fmt.Fprintf(stderr, "[%s] %v\n", m.name, err)
		}
		fs.EachRecord(func(r *kgo.Record) { m.log.Record(m.name, r.Partition, r.Offset, r.Value) })
		if unc := m.cl.UncommittedOffsets(); len(unc) > 0 {
			m.cl.CommitOffsetsSync(ctx, unc, func(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						m.log.CommitError(m.name, -1, errName(err))
					}
					return
				}
				sent := map[int32]int64{}
				for _, t := range req.Topics {
					for _, p := range t.Partitions {
						sent[p.Partition] = p.Offset
					}
				}
				for _, t := range resp.Topics {
					for _, p := range t.Partitions {
						if p.ErrorCode != 0 {
							m.log.CommitError(m.name, p.Partition, conf.KafkaName(p.ErrorCode))
						} else {
							m.log.Commit(m.name, p.Partition, sent[p.Partition])
						}
					}
				}
			})
		}
		m.cl.AllowRebalance()
	}
}

func (m *franzMember) Close() {
	m.once.Do(func() {
		m.closing.Store(true)
		m.cancel()
		<-m.done
		m.cl.Close() // leaves the group (a static member does not: KIP-345)
		m.log.Closed(m.name)
	})
}

// CloseNoLeave: kgo's Close sends no LeaveGroup for a member with an InstanceID.
func (m *franzMember) CloseNoLeave() { m.Close() }

func groupRebalance(cooperative bool) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		var opts []kgo.Opt
		stayer := ""
		if cooperative {
			opts = append(opts, kgo.Balancers(kgo.CooperativeStickyBalancer()))
			stayer = "C3"
			s.Fact("assignor", "cooperative-sticky")
		} else {
			s.Fact("assignor", "cooperative-sticky (kgo's default balancer)")
		}
		g, err := newFranzGroup(s, opts...)
		if err != nil {
			return err
		}
		defer g.close()
		return conf.RunRebalance(ctx, s, g, stayer)
	}
}

func groupConsumerProtocol(ctx context.Context, s *conf.Scenario) error {
	// kgo silently falls back to the classic protocol when the broker lacks ConsumerGroupHeartbeat v1:
	// check first so that a pass means KIP-848 was really used.
	adm, err := newAdmin(s)
	if err != nil {
		return err
	}
	avs, err := adm.ApiVersions(ctx)
	adm.Close()
	if err != nil {
		return fmt.Errorf("ApiVersions: %s", describe(err))
	}
	ok := false
	for _, av := range avs {
		if v, has := av.KeyMaxVersion(int16(kmsg.ConsumerGroupHeartbeat)); has && v >= 1 {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("KIP-848: broker does not advertise ConsumerGroupHeartbeat (key 68) v1+, which kgo.ServerSideBalancer needs (it would fall back to the classic protocol)")
	}
	s.Fact("group_protocol", "consumer (kgo.ServerSideBalancer, ConsumerGroupHeartbeat)")
	g, err := newFranzGroup(s, kgo.ServerSideBalancer())
	if err != nil {
		return err
	}
	defer g.close()
	return conf.RunRebalance(ctx, s, g, "")
}

func groupStatic(ctx context.Context, s *conf.Scenario) error {
	g, err := newFranzGroup(s)
	if err != nil {
		return err
	}
	defer g.close()
	return conf.RunStatic(ctx, s, g)
}

func groupOffsets(ctx context.Context, s *conf.Scenario) error {
	topic := s.TopicFor("consume-earliest")
	group := s.Prefix + "." + s.Name
	adm, err := newAdmin(s)
	if err != nil {
		return err
	}
	defer adm.Close()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return fmt.Errorf("ListEndOffsets: %s", describe(err))
	}
	if e, _ := ends.Lookup(topic, 0); e.Offset == 0 {
		if _, err := produce(ctx, s, topic, conf.StandardRange("consume-earliest", 0, 20), nil); err != nil {
			return err
		}
	}
	// kgo commits only for subscribed group members; an assign-mode ("simple consumer") commit is
	// kadm.CommitOffsets (OffsetCommit with generation -1 and no member id).
	s.Fact("commit_api", "kadm.CommitOffsets / kadm.FetchOffsets")
	s.Step("committing offset 7 (metadata m7) for %s[0] in group %s", topic, group)
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 7, LeaderEpoch: -1, Metadata: "m7"})
	crs, err := adm.CommitOffsets(ctx, group, os)
	if err == nil {
		err = crs.Error()
	}
	if err != nil {
		return fmt.Errorf("OffsetCommit (offset 7): %s", describe(err))
	}
	adm.Close()
	adm2, err := newAdmin(s)
	if err != nil {
		return err
	}
	defer adm2.Close()
	s.Step("fetching the committed offset")
	fr, err := adm2.FetchOffsets(ctx, group)
	if err != nil {
		return fmt.Errorf("OffsetFetch: %s", describe(err))
	}
	o, ok := fr.Lookup(topic, 0)
	if !ok {
		return fmt.Errorf("OffsetFetch: no committed offset for %s[0]", topic)
	}
	s.Fact("committed", map[string]any{"offset": o.At, "metadata": o.Metadata})
	if o.Err != nil {
		return fmt.Errorf("OffsetFetch %s[0]: %s", topic, describe(o.Err))
	}
	if o.At != 7 || o.Metadata != "m7" {
		return fmt.Errorf("OffsetFetch: expected offset 7 metadata m7, got offset %d metadata %q", o.At, o.Metadata)
	}
	got, err := consume(ctx, s, topic, 0, kgo.NewOffset().At(o.At), 1, 0)
	if err != nil {
		return err
	}
	s.Fact("resumed_at", got[0].Offset)
	if got[0].Offset != 7 {
		return fmt.Errorf("resume: expected first record at offset 7, got %d", got[0].Offset)
	}
	return nil
}
