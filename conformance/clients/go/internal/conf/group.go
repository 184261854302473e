package conf

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// GroupEvent is one thing a group member did, stamped with the shared monotonic clock.
type GroupEvent struct {
	At         time.Duration
	Consumer   string
	Kind       string // assigned, revoked, lost, closed, record, commit, commit_error
	Partitions []int32
	Partition  int32
	Offset     int64
	Value      string
	Err        string
}

// GroupLog collects the events of every member of one scenario (one process, one clock).
type GroupLog struct {
	mu     sync.Mutex
	start  time.Time
	events []GroupEvent
}

// NewGroupLog starts the shared clock.
func NewGroupLog() *GroupLog { return &GroupLog{start: time.Now()} }

func (g *GroupLog) add(e GroupEvent) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e.At = time.Since(g.start)
	g.events = append(g.events, e)
}

// Assigned records an assignment callback (for eager clients: the whole new assignment).
func (g *GroupLog) Assigned(c string, ps []int32) {
	g.add(GroupEvent{Consumer: c, Kind: "assigned", Partitions: slices.Clone(ps)})
}

// Revoked records a revocation callback.
func (g *GroupLog) Revoked(c string, ps []int32) {
	g.add(GroupEvent{Consumer: c, Kind: "revoked", Partitions: slices.Clone(ps)})
}

// Lost records a lost-partitions callback.
func (g *GroupLog) Lost(c string, ps []int32) {
	g.add(GroupEvent{Consumer: c, Kind: "lost", Partitions: slices.Clone(ps)})
}

// Rebalance records the start of a new assignment (for clients whose assignment events are per partition).
func (g *GroupLog) Rebalance(c string) { g.add(GroupEvent{Consumer: c, Kind: "rebalance"}) }

// Closed records that a member closed (it owns nothing afterwards).
func (g *GroupLog) Closed(c string) { g.add(GroupEvent{Consumer: c, Kind: "closed"}) }

// Record records a consumed record.
func (g *GroupLog) Record(c string, p int32, off int64, value []byte) {
	g.add(GroupEvent{Consumer: c, Kind: "record", Partition: p, Offset: off, Value: string(value)})
}

// Commit records a successful commit of offset for partition p.
func (g *GroupLog) Commit(c string, p int32, off int64) {
	g.add(GroupEvent{Consumer: c, Kind: "commit", Partition: p, Offset: off})
}

// CommitError records a commit the broker rejected (normal during a rebalance).
func (g *GroupLog) CommitError(c string, p int32, name string) {
	g.add(GroupEvent{Consumer: c, Kind: "commit_error", Partition: p, Err: name})
}

// Events returns a copy of the events so far.
func (g *GroupLog) Events() []GroupEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.events)
}

// ConsumedValues is the set of record values consumed so far.
func (g *GroupLog) ConsumedValues() map[string]bool {
	out := map[string]bool{}
	for _, e := range g.Events() {
		if e.Kind == "record" {
			out[e.Value] = true
		}
	}
	return out
}

// Owned is what consumer c owns now according to its callbacks.
func (g *GroupLog) Owned(c string) []int32 {
	own := map[int32]bool{}
	for _, e := range g.Events() {
		if e.Consumer != c {
			continue
		}
		switch e.Kind {
		case "assigned":
			for _, p := range e.Partitions {
				own[p] = true
			}
		case "revoked", "lost":
			for _, p := range e.Partitions {
				delete(own, p)
			}
		case "closed":
			own = map[int32]bool{}
		}
	}
	return SortedKeys(own)
}

// WaitConsumed waits until every value in want has been consumed by some member.
func (g *GroupLog) WaitConsumed(ctx context.Context, want []string) error {
	for {
		got := g.ConsumedValues()
		missing := 0
		for _, v := range want {
			if !got[v] {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timeout: awaiting consumption (%d of %d records still unconsumed)", missing, len(want))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// GroupMember is one running group consumer of a driver.
type GroupMember interface {
	Close()        // leave the group (classic: LeaveGroup) and stop
	CloseNoLeave() // stop without leaving the group (static membership)
}

// GroupClient is what a driver supplies to the shared group scenarios.
type GroupClient interface {
	// Produce sends recs, record i to partition partitionOf(i), and waits for delivery.
	Produce(ctx context.Context, recs []Record, partitionOf func(int) int32) error
	// Start starts member `name` (its own client) that logs into log; instanceID "" means dynamic.
	Start(ctx context.Context, name, instanceID string, log *GroupLog) (GroupMember, error)
}

func values(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	return out
}

// RunRebalance drives group-rebalance / group-cooperative / group-consumer-protocol: a paced producer
// of 3000 records over 12 partitions, C1 at 0 s, C2 at 2 s, C3 at 4 s, C1 leaves at 6 s, C2 at 8 s,
// C3 runs until every record is consumed. With stayer != "", that member must never lose a partition.
func RunRebalance(ctx context.Context, s *Scenario, gc GroupClient, stayer string) error {
	const n, parts = 3000, 12
	recs := StandardRange(s.Name, 0, n)
	log := NewGroupLog()
	members := map[string]GroupMember{}
	defer func() {
		for _, m := range members {
			m.Close()
		}
	}()
	prodErr := make(chan error, 1)
	go func() {
		// 30 records every 100 ms: about 300 records/s, 10 s in all.
		for i := 0; i < n; i += 30 {
			next := time.Now().Add(100 * time.Millisecond)
			batch := recs[i:min(i+30, n)]
			base := i
			if err := gc.Produce(ctx, batch, func(j int) int32 { return int32((base + j) % parts) }); err != nil {
				prodErr <- fmt.Errorf("producing records %d..%d: %w", i, i+len(batch)-1, err)
				return
			}
			time.Sleep(time.Until(next))
		}
		prodErr <- nil
	}()
	start := time.Now()
	at := func(d time.Duration) error {
		select {
		case <-time.After(time.Until(start.Add(d))):
			return nil
		case <-ctx.Done():
			return fmt.Errorf("timeout: awaiting the %v mark", d)
		}
	}
	startMember := func(name string) error {
		s.Step("starting %s", name)
		m, err := gc.Start(ctx, name, "", log)
		if err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		members[name] = m
		return nil
	}
	closeMember := func(name string) {
		s.Step("closing %s", name)
		members[name].Close()
		delete(members, name)
	}
	if err := startMember("C1"); err != nil {
		return err
	}
	for _, step := range []struct {
		at     time.Duration
		start  string
		closes string
	}{{2 * time.Second, "C2", ""}, {4 * time.Second, "C3", ""}, {6 * time.Second, "", "C1"}, {8 * time.Second, "", "C2"}} {
		if err := at(step.at); err != nil {
			return err
		}
		if step.start != "" {
			if err := startMember(step.start); err != nil {
				return err
			}
		} else {
			closeMember(step.closes)
		}
	}
	s.Step("waiting for the producer")
	select {
	case err := <-prodErr:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return fmt.Errorf("timeout: awaiting the producer")
	}
	s.Fact("produced", n)
	s.Step("waiting until every record is consumed")
	werr := log.WaitConsumed(ctx, values(recs))
	closeMember("C3")
	facts, err := JudgeGroup(log, values(recs), stayer)
	for k, v := range facts {
		s.Fact(k, v)
	}
	if werr != nil {
		return werr
	}
	return err
}

type interval struct {
	consumer   string
	start, end time.Duration
}

// JudgeGroup checks (a) every produced value was consumed, (b) committed offsets never decrease per
// partition, (c) no partition was owned by two members at once; and, with stayer != "", that this
// member never lost a partition. It returns the facts of SCENARIOS.md.
func JudgeGroup(log *GroupLog, produced []string, stayer string) (map[string]any, error) {
	events := log.Events()
	facts := map[string]any{}
	total, rebalances := 0, 0
	seen := map[string]int{}
	commitErrors := map[string]int{}
	for _, e := range events {
		switch e.Kind {
		case "record":
			total++
			seen[e.Value]++
		case "rebalance":
			rebalances++
		case "commit_error":
			commitErrors[e.Err]++
		}
	}
	if rebalances == 0 { // clients without a separate rebalance event: count assignment callbacks
		for _, e := range events {
			if e.Kind == "assigned" {
				rebalances++
			}
		}
	}
	dups := 0
	for _, c := range seen {
		dups += c - 1
	}
	facts["consumed"], facts["duplicates"], facts["rebalances"], facts["commit_errors"] = total, dups, rebalances, commitErrors
	var missing []string
	for _, v := range produced {
		if seen[v] == 0 {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return facts, fmt.Errorf("(a) every record consumed: %d of %d never consumed, first %q", len(missing), len(produced), missing[0])
	}
	last := map[int32]int64{}
	for _, e := range events {
		if e.Kind != "commit" {
			continue
		}
		if prev, ok := last[e.Partition]; ok && e.Offset < prev {
			return facts, fmt.Errorf("(b) commits never decrease: partition %d committed %d by %s at %v after %d", e.Partition, e.Offset, e.Consumer, e.At, prev)
		}
		last[e.Partition] = e.Offset
	}
	open := map[string]map[int32]time.Duration{}
	byPart := map[int32][]interval{}
	end := time.Duration(1<<62 - 1)
	closeOne := func(c string, p int32, at time.Duration) {
		if st, ok := open[c][p]; ok {
			byPart[p] = append(byPart[p], interval{c, st, at})
			delete(open[c], p)
		}
	}
	for _, e := range events {
		if open[e.Consumer] == nil {
			open[e.Consumer] = map[int32]time.Duration{}
		}
		switch e.Kind {
		case "assigned":
			for _, p := range e.Partitions {
				if _, ok := open[e.Consumer][p]; !ok {
					open[e.Consumer][p] = e.At
				}
			}
		case "revoked", "lost":
			for _, p := range e.Partitions {
				closeOne(e.Consumer, p, e.At)
			}
		case "closed":
			for p := range open[e.Consumer] {
				closeOne(e.Consumer, p, e.At)
			}
		}
	}
	for c, ps := range open {
		for p := range ps {
			closeOne(c, p, end)
		}
	}
	for p, ivs := range byPart {
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].start < ivs[j].start })
		for i := range ivs {
			for j := i + 1; j < len(ivs); j++ {
				if ivs[j].consumer != ivs[i].consumer && ivs[j].start < ivs[i].end {
					return facts, fmt.Errorf("(c) single owner: partition %d owned by %s [%v, %v] and %s from %v", p, ivs[i].consumer, ivs[i].start, ivs[i].end, ivs[j].consumer, ivs[j].start)
				}
			}
		}
	}
	if stayer != "" {
		for _, e := range events {
			if e.Consumer == stayer && (e.Kind == "revoked" || e.Kind == "lost") && len(e.Partitions) > 0 {
				return facts, fmt.Errorf("incremental rebalance: %s lost partitions %v at %v (%s)", stayer, e.Partitions, e.At, e.Kind)
			}
		}
	}
	return facts, nil
}

// RunStatic drives group-static (KIP-345) with members PREFIX.a and PREFIX.b.
func RunStatic(ctx context.Context, s *Scenario, gc GroupClient) error {
	log := NewGroupLog()
	members := map[string]GroupMember{}
	defer func() {
		for _, m := range members {
			m.Close()
		}
	}()
	first := StandardRange(s.Name, 0, 100)
	if err := gc.Produce(ctx, first, func(i int) int32 { return int32(i % 4) }); err != nil {
		return fmt.Errorf("producing records 0..99: %w", err)
	}
	start := func(name, id string) error {
		s.Step("starting %s (group.instance.id %s)", name, id)
		m, err := gc.Start(ctx, name, id, log)
		if err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		members[name] = m
		return nil
	}
	waitOwned := func(name string) error {
		s.Step("waiting for %s's assignment", name)
		for len(log.Owned(name)) == 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("timeout: awaiting %s's assignment", name)
			case <-time.After(50 * time.Millisecond):
			}
		}
		return nil
	}
	if err := start("A", s.Prefix+".a"); err != nil {
		return err
	}
	if err := waitOwned("A"); err != nil {
		return err
	}
	if err := start("B", s.Prefix+".b"); err != nil {
		return err
	}
	if err := waitOwned("B"); err != nil {
		return err
	}
	s.Step("consuming records 0..99")
	if err := log.WaitConsumed(ctx, values(first)); err != nil {
		return err
	}
	// Let the group settle: both members own partitions and no callback for 1 s.
	s.Step("waiting for the group to settle")
	for {
		ev := log.Events()
		lastCb := time.Duration(0)
		for _, e := range ev {
			if e.Kind == "assigned" || e.Kind == "revoked" || e.Kind == "lost" {
				lastCb = e.At
			}
		}
		if len(log.Owned("A"))+len(log.Owned("B")) == 4 && time.Since(log.start)-lastCb > time.Second {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timeout: awaiting a settled group (A owns %v, B owns %v)", log.Owned("A"), log.Owned("B"))
		case <-time.After(100 * time.Millisecond):
		}
	}
	ownedA, ownedB := log.Owned("A"), log.Owned("B")
	s.Fact("assignment_a", ownedA)
	s.Fact("assignment_b", ownedB)
	settled := len(log.Events())
	s.Step("closing A without leaving the group")
	members["A"].CloseNoLeave()
	delete(members, "A")
	if err := start("A'", s.Prefix+".a"); err != nil {
		return err
	}
	if err := waitOwned("A'"); err != nil {
		return err
	}
	second := StandardRange(s.Name, 100, 200)
	if err := gc.Produce(ctx, second, func(i int) int32 { return int32((100 + i) % 4) }); err != nil {
		return fmt.Errorf("producing records 100..199: %w", err)
	}
	s.Step("consuming records 100..199")
	if err := log.WaitConsumed(ctx, values(second)); err != nil {
		return err
	}
	ownedA2 := log.Owned("A'")
	s.Fact("assignment_a2", ownedA2)
	firstB := false
	for i, e := range log.Events() {
		if e.Consumer != "B" || (e.Kind != "assigned" && e.Kind != "revoked" && e.Kind != "lost") || len(e.Partitions) == 0 {
			continue // an empty (incremental) callback changes nothing
		}
		if !firstB {
			firstB = e.Kind == "assigned" && len(e.Partitions) > 0
			continue
		}
		when := "before A's restart"
		if i >= settled {
			when = "after A's restart"
		}
		return fmt.Errorf("B kept its first assignment: B got a %s callback %v at %v (%s)", e.Kind, e.Partitions, e.At, when)
	}
	if fmt.Sprint(ownedA2) != fmt.Sprint(ownedA) {
		return fmt.Errorf("A' got A's partitions: expected %v, got %v", ownedA, ownedA2)
	}
	return nil
}
