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
	"strconv"
	"strings"

	"github.com/IBM/sarama"

	"github.com/chronik/conformance/clients/go/internal/conf"
)

// secureConn, when set, adds a secured listener's settings to every config newConfig makes
// (scenarios run one at a time).
var secureConn func(*sarama.Config)

// securedConfig returns the settings of the protocol's listener (nil mechanism: none) for user/password
// (OAUTHBEARER: password is the token sent).
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
			case conf.OAuthBearer:
				c.Net.SASL.User, c.Net.SASL.Password = "", ""
				c.Net.SASL.TokenProvider = staticToken(password)
			case "SCRAM-SHA-256":
				c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{h: sha256.New} }
			case "SCRAM-SHA-512":
				c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{h: sha512.New} }
			}
		}
	}, nil
}

// saramaClient connects over SASL_PLAINTEXT with the mechanism as user/password (retries:
// whether a failed metadata request is retried).
func saramaClient(sec *conf.Security, mech, user, password string, retries bool) (sarama.Client, error) {
	apply, err := securedConfig(sec, "SASL_PLAINTEXT", mech, user, password)
	if err != nil {
		return nil, err
	}
	cfg := newConfig()
	apply(cfg)
	if !retries {
		cfg.Metadata.Retry.Max = 0
	}
	return sarama.NewClient([]string{sec.SASLPlaintext}, cfg)
}

// security is what the security scenarios need of Sarama.
var security = &conf.SecurityClient{
	OAuthBearer: true,
	Use: func(sec *conf.Security, protocol, mechanism string, u conf.User) (func(), error) {
		apply, err := securedConfig(sec, protocol, mechanism, u.Username, u.Secret(mechanism))
		if err != nil {
			return nil, err
		}
		secureConn = apply
		return func() { secureConn = nil }, nil
	},
	Produce: func(ctx context.Context, s *conf.Scenario, recs []conf.Record, p int32) ([]int64, error) {
		return produce(ctx, s, newConfig(), s.Topic, recs, func(int) int32 { return p })
	},
	Consume: func(ctx context.Context, s *conf.Scenario, p int32, n int) ([]conf.Record, error) {
		return consume(ctx, s, s.Topic, p, 0, n, 0)
	},
	Attempt: func(_ context.Context, sec *conf.Security, mech, user, password string) error {
		cl, err := saramaClient(sec, mech, user, password, false)
		if err == nil {
			cl.Close()
		}
		return err
	},
	Login: func(_ context.Context, sec *conf.Security, mech, user, password string) ([]string, error) {
		cl, err := saramaClient(sec, mech, user, password, true)
		if err != nil {
			return nil, errors.New(describe(err))
		}
		defer cl.Close()
		topics, err := cl.Topics()
		if err != nil {
			return nil, fmt.Errorf("listing topics: %s", describe(err))
		}
		return topics, nil
	},
	AuthFailure:   "sarama.ErrSASLAuthenticationFailed",
	IsAuthFailure: func(err error) bool { return errors.Is(err, sarama.ErrSASLAuthenticationFailed) },
	Refused: func(err error) string {
		return fmt.Sprintf("sarama.ErrSASLAuthenticationFailed (SASL_AUTHENTICATION_FAILED, code 58): %v", err)
	},
	Describe: describe,
}

// staticToken is a sarama.AccessTokenProvider handing out one token. A refused token is reported
// with the brokers' generic "invalid credentials" text, not the {"status":"invalid_token"} challenge:
// Sarama 1.61 answers the challenge with the 4 characters `\x01` (a raw string), not the byte 0x01,
// which Kafka (and Chronik) reject as a malformed client message.
type staticToken string

func (t staticToken) Token() (*sarama.AccessToken, error) {
	return &sarama.AccessToken{Token: string(t)}, nil
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
