// Package conf holds what both Go drivers share: the command line, the standard records of
// conformance/SCENARIOS.md, record comparison, error naming and the per-scenario runner.
package conf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// T0 is the timestamp of standard record 0, in milliseconds.
const T0 int64 = 1700000000000

// ScenarioTimeout is how long a scenario may take before it fails with "timeout: ...".
const ScenarioTimeout = 60 * time.Second

// Header is one record header.
type Header struct {
	Key, Value string
}

// Record is a record as sent or as read back (Offset and Partition only matter when read back).
type Record struct {
	Key, Value []byte
	Headers    []Header
	Timestamp  int64 // milliseconds
	Partition  int32
	Offset     int64
}

// Standard returns standard record i of scenario s.
func Standard(s string, i int) Record {
	return Record{
		Key:       []byte(fmt.Sprintf("k%d", i)),
		Value:     []byte(fmt.Sprintf("%s-v%d-%s", s, i, strings.Repeat("abcdefghij", i%10))),
		Headers:   []Header{{"i", fmt.Sprint(i)}, {"s", s}},
		Timestamp: T0 + int64(i)*1000,
		Offset:    int64(i),
	}
}

// StandardRange returns standard records from..to-1 of scenario s.
func StandardRange(s string, from, to int) []Record {
	out := make([]Record, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, Standard(s, i))
	}
	return out
}

func short(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q...(%d bytes)", b[:40], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// CompareRecord checks that got equals want (key, value, headers, timestamp and offset).
func CompareRecord(what string, want, got Record) error {
	switch {
	case got.Offset != want.Offset:
		return fmt.Errorf("%s: offset expected %d, got %d", what, want.Offset, got.Offset)
	case !bytes.Equal(got.Key, want.Key):
		return fmt.Errorf("%s (offset %d): key expected %s, got %s", what, got.Offset, short(want.Key), short(got.Key))
	case !bytes.Equal(got.Value, want.Value):
		return fmt.Errorf("%s (offset %d): value expected %s, got %s", what, got.Offset, short(want.Value), short(got.Value))
	case fmt.Sprint(got.Headers) != fmt.Sprint(want.Headers):
		return fmt.Errorf("%s (offset %d): headers expected %v, got %v", what, got.Offset, want.Headers, got.Headers)
	case got.Timestamp != want.Timestamp:
		return fmt.Errorf("%s (offset %d): timestamp expected %d, got %d", what, got.Offset, want.Timestamp, got.Timestamp)
	}
	return nil
}

// CompareRecords checks "read back identical": same count, in order, each record equal.
func CompareRecords(what string, want, got []Record) error {
	for i := 0; i < len(want) && i < len(got); i++ {
		if err := CompareRecord(fmt.Sprintf("%s record #%d", what, i), want[i], got[i]); err != nil {
			return err
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("%s: expected %d records, got %d", what, len(want), len(got))
	}
	return nil
}

// ErrUnsupported marks a scenario the client's API cannot express.
type ErrUnsupported struct{ Reason string }

func (e ErrUnsupported) Error() string { return e.Reason }

// KafkaName names a Kafka error code the way the protocol does (MESSAGE_TOO_LARGE).
func KafkaName(code int16) string {
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Message
	}
	return "UNKNOWN_SERVER_ERROR"
}

// Scenario is one running scenario: its name, topic and the facts it gathers.
type Scenario struct {
	Name      string
	Bootstrap string
	Prefix    string
	Topic     string // T(Name)
	// Security is the --security file, nil when not given.
	Security *Security

	mu    sync.Mutex
	facts map[string]any
	step  string
}

// Fact records a fact shown in the report.
func (s *Scenario) Fact(k string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.facts[k] = v
}

// Step records what the scenario is doing now (named by a timeout).
func (s *Scenario) Step(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.step = fmt.Sprintf(format, args...)
	fmt.Fprintf(os.Stderr, "%s [%s] %s\n", time.Now().UTC().Format("15:04:05.000"), s.Name, s.step)
}

// Skip lists a check the client cannot do in the facts' skipped_checks (once).
func (s *Scenario) Skip(check string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	skipped, _ := s.facts["skipped_checks"].([]string)
	if !slices.Contains(skipped, check) {
		s.facts["skipped_checks"] = append(skipped, check)
	}
}

// TopicFor returns PREFIX.name.
func (s *Scenario) TopicFor(name string) string { return s.Prefix + "." + name }

// Func runs one scenario; a returned error fails it (ErrUnsupported: unsupported).
type Func func(ctx context.Context, s *Scenario) error

type result struct {
	Scenario string         `json:"scenario"`
	Status   string         `json:"status"`
	Detail   string         `json:"detail"`
	Facts    map[string]any `json:"facts"`
	Seconds  float64        `json:"seconds"`
}

// ModuleVersion returns the version of a module this binary was built with.
func ModuleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				if d.Replace != nil {
					d = d.Replace
				}
				return strings.TrimPrefix(d.Version, "v")
			}
		}
	}
	return "unknown"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Main parses the command line and runs the scenarios; it does not return.
func Main(clientName, modulePath string, scenarios map[string]Func) {
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	bootstrap := fs.String("bootstrap", "", "HOST:PORT of the broker")
	prefix := fs.String("prefix", "", "topic prefix")
	names := fs.String("scenarios", "", "comma-separated scenario names")
	version := fs.Bool("client-version", false, "print the client library and version, then exit")
	securityFile := fs.String("security", "", "JSON file: secured listeners, CA file, users (SCENARIOS.md)")
	_ = fs.Parse(os.Args[1:])
	if *version {
		fmt.Printf("%s %s\n", clientName, ModuleVersion(modulePath))
		os.Exit(0)
	}
	if *bootstrap == "" || *prefix == "" || *names == "" {
		fmt.Fprintln(os.Stderr, "usage: --bootstrap HOST:PORT --prefix PREFIX --scenarios a,b,c | --client-version")
		os.Exit(2)
	}
	var security *Security
	if *securityFile != "" {
		var err error
		if security, err = loadSecurity(*securityFile); err != nil {
			fmt.Fprintln(os.Stderr, "--security:", err)
			os.Exit(2)
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	for _, name := range strings.Split(*names, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		r := run(name, *bootstrap, *prefix, security, scenarios[name])
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, "writing result:", err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

func run(name, bootstrap, prefix string, security *Security, fn Func) result {
	start := time.Now()
	s := &Scenario{Name: name, Bootstrap: bootstrap, Prefix: prefix, Security: security, facts: map[string]any{}, step: "start"}
	topic := name
	if strings.HasPrefix(name, "restart-") {
		topic = "restart"
	}
	s.Topic = prefix + "." + topic
	r := result{Scenario: name, Status: "pass"}
	if fn == nil {
		r.Status, r.Detail = "unsupported", "unknown scenario "+name+" (known: "+strings.Join(Names, ",")+")"
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), ScenarioTimeout)
		done := make(chan error, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					done <- fmt.Errorf("panic: %v", p)
				}
			}()
			done <- fn(ctx, s)
		}()
		var err error
		select {
		case err = <-done:
		case <-ctx.Done():
			select { // give the scenario a moment to report its own (more precise) error
			case err = <-done:
			case <-time.After(3 * time.Second):
				err = context.DeadlineExceeded
			}
		}
		timedOut := ctx.Err() != nil
		cancel()
		s.mu.Lock()
		step := s.step
		s.mu.Unlock()
		var unsup ErrUnsupported
		switch {
		case err == nil:
		case errors.As(err, &unsup):
			r.Status, r.Detail = "unsupported", oneLine(unsup.Reason)
		case timedOut || errors.Is(err, context.DeadlineExceeded):
			r.Status, r.Detail = "fail", oneLine("timeout: "+step+" ("+err.Error()+")")
		default:
			r.Status, r.Detail = "fail", oneLine(err.Error())
		}
	}
	s.mu.Lock()
	r.Facts = make(map[string]any, len(s.facts))
	for k, v := range s.facts {
		r.Facts[k] = v
	}
	s.mu.Unlock()
	r.Seconds = float64(time.Since(start).Milliseconds()) / 1000
	return r
}

// SortedKeys returns m's keys in order (for stable facts).
func SortedKeys[V any](m map[int32]V) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Names lists the scenarios of SCENARIOS.md (both drivers implement all of them).
var Names = []string{
	"connect", "metadata",
	"roundtrip-none", "roundtrip-gzip", "roundtrip-snappy", "roundtrip-lz4", "roundtrip-zstd",
	"max-message-bytes", "acks-0", "acks-1", "acks-all",
	"consume-earliest", "consume-latest", "consume-timestamp", "idempotent",
	"admin-topics", "admin-configs", "admin-partitions", "admin-records",
	"restart-produce", "restart-consume",
	"group-offsets", "group-rebalance", "group-cooperative", "group-static", "group-consumer-protocol",
	"security-ssl", "security-sasl-plaintext", "security-sasl-ssl", "security-auth-failure",
}
