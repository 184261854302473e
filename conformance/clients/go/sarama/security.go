package main

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"

	"github.com/IBM/sarama"

	"github.com/chronik/conformance/clients/go/internal/conf"
)

// secureConn, when set, adds a secured listener's settings to every config newConfig makes
// (scenarios run one at a time).
var secureConn func(*sarama.Config)

// securedConfig returns the settings of the protocol's listener (nil mechanism: none) for user/password.
func securedConfig(sec *conf.Security, protocol, mechanism, user, password string) (func(*sarama.Config), error) {
	var tlsConf *tls.Config
	if strings.HasSuffix(protocol, "SSL") {
		t, err := sec.TLSConfig()
		if err != nil {
			return nil, err
		}
		tlsConf = t
	}
	return func(c *sarama.Config) {
		if tlsConf != nil {
			c.Net.TLS.Enable = true
			c.Net.TLS.Config = tlsConf.Clone() // server name: the dialled host (sarama sets it), checked against the IP SAN
		}
		if mechanism != "" {
			c.Net.SASL.Enable = true
			c.Net.SASL.Handshake = true
			c.Net.SASL.Version = sarama.SASLHandshakeV1
			c.Net.SASL.Mechanism = sarama.SASLMechanism(mechanism)
			c.Net.SASL.User = user
			c.Net.SASL.Password = password
			switch mechanism {
			case "SCRAM-SHA-256":
				c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{h: sha256.New} }
			case "SCRAM-SHA-512":
				c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{h: sha512.New} }
			}
		}
	}, nil
}

// withSecured runs fn with every new config (and the scenario's bootstrap) on the secured listener.
func withSecured(s *conf.Scenario, protocol, mechanism string, fn func() error) error {
	sec, err := s.Secured()
	if err != nil {
		return err
	}
	u := sec.Users[mechanism]
	apply, err := securedConfig(sec, protocol, mechanism, u.Username, u.Password)
	if err != nil {
		return err
	}
	bootstrap := s.Bootstrap
	s.Bootstrap, secureConn = sec.Addr(protocol), apply
	defer func() { s.Bootstrap, secureConn = bootstrap, nil }()
	return fn()
}

// securedRoundtrip produces standard records 0..n-1 to partition p of T(s) and reads them back identical.
func securedRoundtrip(ctx context.Context, s *conf.Scenario, n int, p int32, label string) error {
	recs := conf.StandardRange(s.Name, 0, n)
	offsets, err := produce(ctx, s, newConfig(), s.Topic, recs, func(int) int32 { return p })
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if err := checkDeliveryOffsets(offsets, nil); err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	got, err := consume(ctx, s, s.Topic, p, 0, n, 0)
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
			apply, err := securedConfig(sec, "SASL_PLAINTEXT", mech, a.user, a.password)
			if err != nil {
				return err
			}
			cfg := newConfig()
			apply(cfg)
			cfg.Metadata.Retry.Max = 0
			cl, err := sarama.NewClient([]string{sec.SASLPlaintext}, cfg)
			if err == nil {
				cl.Close()
				return fmt.Errorf("%s %s: expected sarama.ErrSASLAuthenticationFailed, got a successful login", mech, a.what)
			}
			if !errors.Is(err, sarama.ErrSASLAuthenticationFailed) {
				return fmt.Errorf("%s %s: expected sarama.ErrSASLAuthenticationFailed (code 58), got %s", mech, a.what, describe(err))
			}
			refused[mech+" "+a.what] = fmt.Sprintf("sarama.ErrSASLAuthenticationFailed (SASL_AUTHENTICATION_FAILED, code 58): %v", err)
		}
		s.Step("%s: metadata with the right password after the refusals", mech)
		apply, err := securedConfig(sec, "SASL_PLAINTEXT", mech, u.Username, u.Password)
		if err != nil {
			return err
		}
		cfg := newConfig()
		apply(cfg)
		cl, err := sarama.NewClient([]string{sec.SASLPlaintext}, cfg)
		if err != nil {
			return fmt.Errorf("%s login after the refusals: %s", mech, describe(err))
		}
		topics, err := cl.Topics()
		cl.Close()
		if err != nil {
			return fmt.Errorf("%s login after the refusals: listing topics: %s", mech, describe(err))
		}
		if !slices.Contains(topics, s.Topic) {
			return fmt.Errorf("%s login after the refusals: %s not listed (got %d topics)", mech, s.Topic, len(topics))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	s.Fact("refused", refused)
	s.Fact("mechanisms", conf.Mechanisms)
	return nil
}

// scramClient is an RFC 5802 SCRAM client (Sarama leaves SCRAM to the application).
type scramClient struct {
	h                  func() hash.Hash
	user, password     string
	nonce, clientFirst string
	serverSignature    []byte
	step               int
	done               bool
}

func (c *scramClient) Begin(user, password, _ string) error {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.user = strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user)
	c.password, c.nonce, c.step, c.done = password, base64.RawStdEncoding.EncodeToString(b), 0, false
	c.clientFirst = "n=" + c.user + ",r=" + c.nonce
	return nil
}

func (c *scramClient) mac(key []byte, msg string) []byte {
	m := hmac.New(c.h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (c *scramClient) Step(challenge string) (string, error) {
	c.step++
	switch c.step {
	case 1:
		return "n,," + c.clientFirst, nil
	case 2:
		attrs := map[string]string{}
		for _, kv := range strings.Split(challenge, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				attrs[k] = v
			}
		}
		if e, ok := attrs["e"]; ok {
			return "", fmt.Errorf("SCRAM server error: %s", e)
		}
		nonce, salt64, iter := attrs["r"], attrs["s"], attrs["i"]
		if !strings.HasPrefix(nonce, c.nonce) {
			return "", fmt.Errorf("SCRAM server nonce does not extend ours")
		}
		salt, err := base64.StdEncoding.DecodeString(salt64)
		if err != nil {
			return "", fmt.Errorf("SCRAM salt: %w", err)
		}
		n, err := strconv.Atoi(iter)
		if err != nil {
			return "", fmt.Errorf("SCRAM iterations: %w", err)
		}
		salted, err := pbkdf2.Key(c.h, c.password, salt, n, c.h().Size())
		if err != nil {
			return "", err
		}
		clientKey := c.mac(salted, "Client Key")
		h := c.h()
		h.Write(clientKey)
		storedKey := h.Sum(nil)
		final := "c=biws,r=" + nonce
		auth := c.clientFirst + "," + challenge + "," + final
		sig := c.mac(storedKey, auth)
		proof := make([]byte, len(clientKey))
		for i := range clientKey {
			proof[i] = clientKey[i] ^ sig[i]
		}
		c.serverSignature = c.mac(c.mac(salted, "Server Key"), auth)
		return final + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
	default:
		c.done = true
		if e, ok := strings.CutPrefix(challenge, "e="); ok {
			return "", fmt.Errorf("SCRAM server error: %s", e)
		}
		v, ok := strings.CutPrefix(challenge, "v=")
		if !ok {
			return "", fmt.Errorf("SCRAM server-final without a verifier: %q", challenge)
		}
		got, err := base64.StdEncoding.DecodeString(v)
		if err != nil || !hmac.Equal(got, c.serverSignature) {
			return "", fmt.Errorf("SCRAM server signature does not match")
		}
		return "", nil
	}
}

func (c *scramClient) Done() bool { return c.done }
