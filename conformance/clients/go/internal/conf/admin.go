package conf

import (
	"context"
	"fmt"
	"time"
)

// WaitFor calls cond every 200 ms until it holds, within has passed or ctx ends; it returns cond's last answer.
func WaitFor(ctx context.Context, within time.Duration, cond func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if ok || time.Now().After(deadline) || ctx.Err() != nil {
			return ok, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ExpectedError is a Kafka error a scenario expects: the client's name for it and how to tell it.
type ExpectedError struct {
	Name string // e.g. "kerr.TOPIC_ALREADY_EXISTS (code 36)"
	Is   func(error) bool
}

// TopicAdmin is what the admin-topics and admin-partitions scenarios need of a client's admin API.
type TopicAdmin struct {
	Create        func(ctx context.Context, name string, partitions int32, configs map[string]*string) error
	Delete        func(ctx context.Context, name string) error
	Listed        func(ctx context.Context, name string) (bool, error)
	PartitionIDs  func(ctx context.Context, name string) ([]int32, error) // sorted
	SetPartitions func(ctx context.Context, name string, n int) error
	// DescribeCall names the PartitionIDs call in steps, DescribeError in errors; SetPartitionsCall
	// names SetPartitions.
	DescribeCall, DescribeError, SetPartitionsCall string
	TopicExists, InvalidPartitions                 ExpectedError
	ErrName, Describe                              func(error) string
}

// AdminTopics is the admin-topics scenario.
func (a *TopicAdmin) AdminTopics(ctx context.Context, s *Scenario) error {
	name := s.TopicFor("admin-topics-new")
	retention := "3600000"
	cfgs := map[string]*string{"retention.ms": &retention}
	s.Step("CreateTopic %s", name)
	if err := a.Create(ctx, name, 3, cfgs); err != nil {
		return fmt.Errorf("CreateTopic %s: %s", name, a.Describe(err))
	}
	s.Step("ListTopics after create")
	ok, err := WaitFor(ctx, 5*time.Second, func() (bool, error) { return a.Listed(ctx, name) })
	if err != nil {
		return fmt.Errorf("ListTopics: %s", a.Describe(err))
	}
	if !ok {
		return fmt.Errorf("ListTopics after create: %s not listed", name)
	}
	s.Step("%s %s", a.DescribeCall, name)
	ids, err := a.PartitionIDs(ctx, name)
	if err != nil {
		return fmt.Errorf("%s %s: %s", a.DescribeError, name, a.Describe(err))
	}
	s.Fact("partitions", len(ids))
	if len(ids) != 3 {
		return fmt.Errorf("%s %s: expected 3 partitions, got %v", a.DescribeError, name, ids)
	}
	s.Step("CreateTopic %s again", name)
	err = a.Create(ctx, name, 3, cfgs)
	if err == nil {
		return fmt.Errorf("second CreateTopic %s: expected TOPIC_ALREADY_EXISTS (36), got success", name)
	}
	s.Fact("create_again_error", a.ErrName(err))
	if !a.TopicExists.Is(err) {
		return fmt.Errorf("second CreateTopic %s: expected %s, got %s", name, a.TopicExists.Name, a.Describe(err))
	}
	s.Step("DeleteTopic %s", name)
	if err := a.Delete(ctx, name); err != nil {
		return fmt.Errorf("DeleteTopic %s: %s", name, a.Describe(err))
	}
	s.Step("waiting for %s to leave the listing", name)
	gone, err := WaitFor(ctx, 10*time.Second, func() (bool, error) {
		ok, err := a.Listed(ctx, name)
		return err == nil && !ok, err
	})
	if err != nil {
		return fmt.Errorf("ListTopics after delete: %s", a.Describe(err))
	}
	if !gone {
		return fmt.Errorf("ListTopics 10 s after delete: %s still listed", name)
	}
	return nil
}

// CreateTemporary creates topic name with one partition for the rest of the scenario: the returned
// function deletes it.
func (a *TopicAdmin) CreateTemporary(ctx context.Context, s *Scenario, name string) (func(), error) {
	s.Step("CreateTopic %s", name)
	if err := a.Create(ctx, name, 1, nil); err != nil {
		return nil, fmt.Errorf("CreateTopic %s: %s", name, a.Describe(err))
	}
	return func() { _ = a.Delete(context.Background(), name) }, nil
}

// AdminPartitions is the admin-partitions scenario.
func (a *TopicAdmin) AdminPartitions(ctx context.Context, s *Scenario) error {
	name := s.TopicFor("admin-partitions-new")
	drop, err := a.CreateTemporary(ctx, s, name)
	if err != nil {
		return err
	}
	defer drop()
	s.Step("%s %s to 4", a.SetPartitionsCall, name)
	if err := a.SetPartitions(ctx, name, 4); err != nil {
		return fmt.Errorf("%s(4): %s", a.SetPartitionsCall, a.Describe(err))
	}
	s.Step("%s %s", a.DescribeCall, name)
	var ids []int32
	_, _ = WaitFor(ctx, 5*time.Second, func() (bool, error) {
		ids, err = a.PartitionIDs(ctx, name)
		return err == nil && len(ids) == 4, nil
	})
	if err != nil {
		return fmt.Errorf("%s %s: %s", a.DescribeError, name, a.Describe(err))
	}
	s.Fact("partitions", ids)
	if fmt.Sprint(ids) != "[0 1 2 3]" {
		return fmt.Errorf("partitions after increase: expected [0 1 2 3], got %v", ids)
	}
	s.Step("%s %s to 2", a.SetPartitionsCall, name)
	err = a.SetPartitions(ctx, name, 2)
	if err == nil {
		return fmt.Errorf("%s(2): expected INVALID_PARTITIONS (37), got success", a.SetPartitionsCall)
	}
	s.Fact("decrease_error", a.ErrName(err))
	if !a.InvalidPartitions.Is(err) {
		return fmt.Errorf("%s(2): expected %s, got %s", a.SetPartitionsCall, a.InvalidPartitions.Name, a.Describe(err))
	}
	return nil
}
