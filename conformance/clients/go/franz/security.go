package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/chronik/conformance/clients/go/internal/conf"
)

// secureOpts, when set, are added to every client baseOpts makes (scenarios run one at a time).
var secureOpts []kgo.Opt

// securedOpts returns the client options of the protocol's listener (empty mechanism: no SASL;
// OAUTHBEARER: password is the token sent).
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
	case conf.OAuthBearer:
		m = oauth.Auth{Token: password}.AsMechanism()
	}
	if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// security is what the security scenarios need of franz-go.
var security = &conf.SecurityClient{
	OAuthBearer: true,
	Use: func(sec *conf.Security, protocol, mechanism string, u conf.User) (func(), error) {
		opts, err := securedOpts(sec, protocol, mechanism, u.Username, u.Secret(mechanism))
		if err != nil {
			return nil, err
		}
		secureOpts = opts
		return func() { secureOpts = nil }, nil
	},
	Produce: func(ctx context.Context, s *conf.Scenario, recs []conf.Record, p int32) ([]int64, error) {
		return produce(ctx, s, s.Topic, recs, func(int) int32 { return p })
	},
	Consume: func(ctx context.Context, s *conf.Scenario, p int32, n int) ([]conf.Record, error) {
		return consume(ctx, s, s.Topic, p, kgo.NewOffset().At(0), n, 0)
	},
	Attempt: func(ctx context.Context, sec *conf.Security, mech, user, password string) error {
		_, err := metadataAs(ctx, sec, mech, user, password)
		return err
	},
	Login: func(ctx context.Context, sec *conf.Security, mech, user, password string) ([]string, error) {
		md, err := metadataAs(ctx, sec, mech, user, password)
		if err != nil {
			return nil, errors.New(describe(err))
		}
		var names []string
		for _, t := range md.Topics {
			if t.Topic != nil {
				names = append(names, *t.Topic)
			}
		}
		return names, nil
	},
	AuthFailure:   "kerr.SaslAuthenticationFailed",
	IsAuthFailure: func(err error) bool { return errors.Is(err, kerr.SaslAuthenticationFailed) },
	Refused:       describe,
	Describe:      describe,
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
