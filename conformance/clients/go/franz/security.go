package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/chronik/conformance/clients/go/internal/conf"
)

// secureOpts, when set, are added to every client baseOpts makes (scenarios run one at a time).
var secureOpts []kgo.Opt

// securedOpts returns the client options of the protocol's listener (empty mechanism: no SASL).
func securedOpts(sec *conf.Security, protocol, mechanism, user, password string) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if strings.HasSuffix(protocol, "SSL") {
		t, err := sec.TLSConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(t)) // server name: the dialled host, checked against the IP SAN
	}
	var m sasl.Mechanism
	switch mechanism {
	case "PLAIN":
		m = plain.Auth{User: user, Pass: password}.AsMechanism()
	case "SCRAM-SHA-256":
		m = scram.Auth{User: user, Pass: password}.AsSha256Mechanism()
	case "SCRAM-SHA-512":
		m = scram.Auth{User: user, Pass: password}.AsSha512Mechanism()
	}
	if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func withSecured(s *conf.Scenario, protocol, mechanism string, fn func() error) error {
	sec, err := s.Secured()
	if err != nil {
		return err
	}
	u := sec.Users[mechanism]
	opts, err := securedOpts(sec, protocol, mechanism, u.Username, u.Password)
	if err != nil {
		return err
	}
	bootstrap := s.Bootstrap
	s.Bootstrap, secureOpts = sec.Addr(protocol), opts
	defer func() { s.Bootstrap, secureOpts = bootstrap, nil }()
	return fn()
}

func securedRoundtrip(ctx context.Context, s *conf.Scenario, n int, p int32, label string) error {
	recs := conf.StandardRange(s.Name, 0, n)
	offsets, err := produce(ctx, s, s.Topic, recs, func(int) int32 { return p })
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if err := checkDeliveryOffsets(offsets, nil); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	got, err := consume(ctx, s, s.Topic, p, kgo.NewOffset().At(0), n, 0)
	s.Fact("consumed_"+label, len(got))
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	return conf.CompareRecords("read back "+label, recs, got)
}

func securitySSL(ctx context.Context, s *conf.Scenario) error {
	err := withSecured(s, "SSL", "", func() error { return securedRoundtrip(ctx, s, 20, 0, "SSL") })
	if err == nil {
		s.Fact("ca_verified", true)
	}
	return err
}

func securitySASL(protocol string) conf.Func {
	return func(ctx context.Context, s *conf.Scenario) error {
		var used []string
		for m, mech := range conf.Mechanisms {
			s.Step("%s: produce and read back", mech)
			if err := withSecured(s, protocol, mech, func() error {
				return securedRoundtrip(ctx, s, 10, int32(m), mech)
			}); err != nil {
				return err
			}
			used = append(used, mech)
			s.Fact("mechanisms", used)
		}
		return nil
	}
}

// metadataAs sends one Metadata request (all topics) as user/password over SASL_PLAINTEXT.
func metadataAs(ctx context.Context, sec *conf.Security, mech, user, password string) (*kmsg.MetadataResponse, error) {
	opts, err := securedOpts(sec, "SASL_PLAINTEXT", mech, user, password)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(sec.SASLPlaintext), kgo.ClientID("chronik-conformance-franz-go"),
		kgo.WithLogger(kgo.BasicLogger(stderr, kgo.LogLevelWarn, func() string { return "[franz-go] " }))}, opts...)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return kmsg.NewPtrMetadataRequest().RequestWith(rctx, cl)
}

func securityAuthFailure(ctx context.Context, s *conf.Scenario) error {
	sec, err := s.Secured()
	if err != nil {
		return err
	}
	refused := map[string]string{}
	for _, mech := range conf.Mechanisms {
		u := sec.Users[mech]
		for _, a := range []struct{ what, user, password string }{
			{"wrong password", u.Username, sec.WrongPassword},
			{"unknown user", sec.UnknownUser, u.Password},
		} {
			s.Step("%s %s: authentication error", mech, a.what)
			_, err := metadataAs(ctx, sec, mech, a.user, a.password)
			if err == nil {
				return fmt.Errorf("%s %s: expected kerr.SaslAuthenticationFailed, got a successful login", mech, a.what)
			}
			if !errors.Is(err, kerr.SaslAuthenticationFailed) {
				return fmt.Errorf("%s %s: expected kerr.SaslAuthenticationFailed (code 58), got %s", mech, a.what, describe(err))
			}
			refused[mech+" "+a.what] = describe(err)
		}
		s.Step("%s: metadata with the right password after the refusals", mech)
		md, err := metadataAs(ctx, sec, mech, u.Username, u.Password)
		if err != nil {
			return fmt.Errorf("%s login after the refusals: %s", mech, describe(err))
		}
		var names []string
		for _, t := range md.Topics {
			if t.Topic != nil {
				names = append(names, *t.Topic)
			}
		}
		if !slices.Contains(names, s.Topic) {
			return fmt.Errorf("%s login after the refusals: %s not listed (got %d topics)", mech, s.Topic, len(names))
		}
	}
	s.Fact("refused", refused)
	s.Fact("mechanisms", conf.Mechanisms)
	return nil
}
