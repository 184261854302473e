package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"

	"github.com/chronik/conformance/clients/go/internal/conf"
)

// saramaGroup implements conf.GroupClient with sarama.ConsumerGroup.
type saramaGroup struct {
	s           *conf.Scenario
	strategies  []sarama.BalanceStrategy
	cooperative bool
	producer    sarama.SyncProducer
}

func newSaramaGroup(s *conf.Scenario, cooperative bool) (*saramaGroup, error) {
	cfg := newConfig()
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	p, err := sarama.NewSyncProducer([]string{s.Bootstrap}, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the producer: %s", describe(err))
	}
	g := &saramaGroup{s: s, producer: p, cooperative: cooperative}
	if cooperative {
		g.strategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyCooperativeSticky()}
	} else {
		g.strategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()} // Sarama's default
	}
	s.Fact("assignor", g.strategies[0].Name())
	return g, nil
}

func (g *saramaGroup) close() { _ = g.producer.Close() }

func (g *saramaGroup) Produce(ctx context.Context, recs []conf.Record, partitionOf func(int) int32) error {
	msgs := make([]*sarama.ProducerMessage, len(recs))
	for i, r := range recs {
		msgs[i] = toMessage(g.s.Topic, partitionOf(i), r, i)
	}
	if err := g.producer.SendMessages(msgs); err != nil {
		return fmt.Errorf("SendMessages: %s", describe(err))
	}
	return nil
}

type saramaMember struct {
	name    string
	log     *conf.GroupLog
	client  sarama.Client
	cg      sarama.ConsumerGroup
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	coop    bool
	topic   string
	closing atomic.Bool
}

func (g *saramaGroup) Start(ctx context.Context, name, instanceID string, log *conf.GroupLog) (conf.GroupMember, error) {
	cfg := newConfig()
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Group.Rebalance.GroupStrategies = g.strategies
	cfg.Consumer.Return.Errors = true
	if instanceID != "" {
		cfg.Consumer.Group.InstanceId = instanceID
		cfg.Consumer.Group.Session.Timeout = 30 * time.Second
		cfg.Consumer.Group.Heartbeat.Interval = 3 * time.Second
	}
	client, err := sarama.NewClient([]string{g.s.Bootstrap}, cfg)
	if err != nil {
		return nil, fmt.Errorf("client: %s", describe(err))
	}
	cg, err := sarama.NewConsumerGroupFromClient(g.s.Prefix+"."+g.s.Name, client)
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("NewConsumerGroup: %s", describe(err))
	}
	mctx, cancel := context.WithCancel(ctx)
	m := &saramaMember{name: name, log: log, client: client, cg: cg, cancel: cancel, done: make(chan struct{}), coop: g.cooperative, topic: g.s.Topic}
	go func() {
		for err := range cg.Errors() {
			var ke sarama.KError
			if errors.As(err, &ke) {
				log.CommitError(name, -1, conf.KafkaName(int16(ke)))
			} else {
				fmt.Fprintf(osStderr, "[%s] group error: %v\n", name, err)
			}
		}
	}()
	go func() {
		defer close(m.done)
		for mctx.Err() == nil {
			if err := cg.Consume(mctx, []string{g.s.Topic}, m); err != nil {
				if errors.Is(err, sarama.ErrClosedConsumerGroup) {
					return
				}
				fmt.Fprintf(osStderr, "[%s] Consume: %v\n", name, err)
				time.Sleep(200 * time.Millisecond)
			}
		}
	}()
	return m, nil
}

// Setup/Cleanup bracket an eager generation; with a cooperative strategy the session outlives
// assignment changes, so ownership is logged per claim instead.
func (m *saramaMember) Setup(sess sarama.ConsumerGroupSession) error {
	m.log.Rebalance(m.name)
	if !m.coop {
		m.log.Assigned(m.name, sess.Claims()[m.topic])
	}
	return nil
}

func (m *saramaMember) Cleanup(sess sarama.ConsumerGroupSession) error {
	if !m.coop && !m.closing.Load() {
		m.log.Revoked(m.name, sess.Claims()[m.topic])
	}
	return nil
}

func (m *saramaMember) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	p := claim.Partition()
	if m.coop {
		m.log.Assigned(m.name, []int32{p})
		defer func() {
			if !m.closing.Load() { // a claim ending because we close is not a revocation
				m.log.Revoked(m.name, []int32{p})
			}
		}()
	}
	for {
		select {
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			// Process what is available now (Sarama's "poll"), then commit synchronously.
			batch := []*sarama.ConsumerMessage{msg}
		drain:
			for {
				select {
				case more, ok := <-claim.Messages():
					if !ok {
						break drain
					}
					batch = append(batch, more)
				default:
					break drain
				}
			}
			for _, b := range batch {
				m.log.Record(m.name, b.Partition, b.Offset, b.Value)
				sess.MarkMessage(b, "")
			}
			sess.Commit()
			m.log.Commit(m.name, p, batch[len(batch)-1].Offset+1)
		case <-sess.Context().Done():
			return nil
		}
	}
}

func (m *saramaMember) Close() {
	m.once.Do(func() {
		m.closing.Store(true)
		m.cancel()
		_ = m.cg.Close() // leaves the group (a static member only forgets its member id: KIP-345)
		<-m.done
		m.log.Closed(m.name)
		_ = m.client.Close()
	})
}

// CloseNoLeave: Sarama's Close sends no LeaveGroup for a static member (group.instance.id set).
func (m *saramaMember) CloseNoLeave() { m.Close() }

func groupRebalance(cooperative bool) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		g, err := newSaramaGroup(s, cooperative)
		if err != nil {
			return err
		}
		defer g.close()
		stayer := ""
		if cooperative {
			stayer = "C3"
		}
		return conf.RunRebalance(ctx, s, g, stayer)
	}
}

func groupStatic(ctx context.Context, s *conf.Scenario) error {
	g, err := newSaramaGroup(s, false)
	if err != nil {
		return err
	}
	defer g.close()
	return conf.RunStatic(ctx, s, g)
}

func groupConsumerProtocol(ctx context.Context, s *conf.Scenario) error {
	return conf.ErrUnsupported{Reason: "Sarama has no KIP-848 consumer group protocol (group.protocol=consumer): its ConsumerGroup speaks only the classic JoinGroup/SyncGroup protocol"}
}

func groupOffsets(ctx context.Context, s *conf.Scenario) error {
	topic := s.TopicFor("consume-earliest")
	group := s.Prefix + "." + s.Name
	cfg := newConfig()
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	client, err := sarama.NewClient([]string{s.Bootstrap}, cfg)
	if err != nil {
		return fmt.Errorf("client: %s", describe(err))
	}
	defer client.Close()
	end, err := client.GetOffset(topic, 0, sarama.OffsetNewest)
	if err != nil {
		return fmt.Errorf("GetOffset(%s, newest): %s", topic, describe(err))
	}
	if end == 0 {
		if _, err := produce(ctx, s, newConfig(), topic, conf.StandardRange("consume-earliest", 0, 20), nil); err != nil {
			return err
		}
	}
	// Sarama's OffsetManager is its assign-mode ("simple consumer") commit API. On a fresh broker
	// the first group request creates __consumer_offsets: retry while the coordinator is loading.
	s.Step("committing offset 7 (metadata m7) for %s[0] in group %s", topic, group)
	var commitErr error
	for attempt := 1; ; attempt++ {
		commitErr = commitOnce(client, group, topic)
		if commitErr == nil || !retriableCoordinator(commitErr) || attempt >= 30 || ctx.Err() != nil {
			break
		}
		s.Fact("commit_retries", attempt)
		_ = client.RefreshCoordinator(group)
		time.Sleep(500 * time.Millisecond)
	}
	if commitErr != nil {
		return fmt.Errorf("OffsetCommit (offset 7): %s", describe(commitErr))
	}
	s.Step("fetching the committed offset with a new offset manager")
	client2, err := sarama.NewClient([]string{s.Bootstrap}, cfg)
	if err != nil {
		return fmt.Errorf("client: %s", describe(err))
	}
	defer client2.Close()
	om2, err := sarama.NewOffsetManagerFromClient(group, client2)
	if err != nil {
		return fmt.Errorf("NewOffsetManager: %s", describe(err))
	}
	defer om2.Close()
	pom2, err := om2.ManagePartition(topic, 0)
	if err != nil {
		return fmt.Errorf("ManagePartition (fetch): %s", describe(err))
	}
	defer pom2.AsyncClose()
	off, meta := pom2.NextOffset()
	s.Fact("committed", map[string]any{"offset": off, "metadata": meta})
	if off != 7 || meta != "m7" {
		return fmt.Errorf("OffsetFetch: expected offset 7 metadata m7, got offset %d metadata %q", off, meta)
	}
	c, err := sarama.NewConsumerFromClient(client2)
	if err != nil {
		return fmt.Errorf("consumer: %s", describe(err))
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, off)
	if err != nil {
		return fmt.Errorf("ConsumePartition(%d): %s", off, describe(err))
	}
	defer pc.AsyncClose()
	got, err := readFrom(ctx, s, pc, topic, 0, 1, 0)
	if err != nil {
		return err
	}
	if got[0].Offset != 7 {
		return fmt.Errorf("resume: expected first record at offset 7, got %d", got[0].Offset)
	}
	s.Fact("resumed_at", got[0].Offset)
	return nil
}

func retriableCoordinator(err error) bool {
	return errors.Is(err, sarama.ErrNotCoordinatorForConsumer) || errors.Is(err, sarama.ErrOffsetsLoadInProgress) ||
		errors.Is(err, sarama.ErrConsumerCoordinatorNotAvailable)
}

// commitOnce commits offset 7 with metadata m7 for topic[0] through a fresh OffsetManager.
func commitOnce(client sarama.Client, group, topic string) error {
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		return fmt.Errorf("NewOffsetManager: %w", err)
	}
	pom, err := om.ManagePartition(topic, 0)
	if err != nil {
		_ = om.Close()
		return fmt.Errorf("ManagePartition: %w", err)
	}
	pom.MarkOffset(7, "m7")
	om.Commit()
	pom.AsyncClose()
	_ = om.Close() // releases the partition manager, closing its error channel
	var commitErr error
	for e := range pom.Errors() {
		if commitErr == nil {
			commitErr = e.Err
		}
	}
	return commitErr
}
