package conf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Mechanisms are the SASL mechanisms of the security scenarios, in partition order (mechanism m
// writes to partition m of T(security-sasl-*)).
var Mechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"}

// OAuthBearer is the token mechanism: its user has a principal and a token instead of a password.
const OAuthBearer = "OAUTHBEARER"

// User is one login of the --security file (OAUTHBEARER: the principal and a valid unsecured JWT).
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Token    string `json:"token"`
}

// Secret is what the user logs in with: the token for OAUTHBEARER, else the password.
func (u User) Secret(mechanism string) string {
	if mechanism == OAuthBearer {
		return u.Token
	}
	return u.Password
}

// Security is the runner's --security file (SCENARIOS.md, "Security scenarios").
type Security struct {
	SSL           string          `json:"ssl"`
	SASLPlaintext string          `json:"sasl_plaintext"`
	SASLSSL       string          `json:"sasl_ssl"`
	CAFile        string          `json:"ca_file"`
	Users         map[string]User `json:"users"`
	WrongPassword string          `json:"wrong_password"`
	UnknownUser   string          `json:"unknown_user"`
	ExpiredToken  string          `json:"expired_token"`
	BadToken      string          `json:"bad_token"`
}

func loadSecurity(path string) (*Security, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Security
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// Addr is the address of the listener for protocol SSL, SASL_PLAINTEXT or SASL_SSL.
func (s *Security) Addr(protocol string) string {
	switch strings.ToUpper(protocol) {
	case "SSL":
		return s.SSL
	case "SASL_PLAINTEXT":
		return s.SASLPlaintext
	default:
		return s.SASLSSL
	}
}

// TLSConfig trusts the CA of the file only; the server name is checked against the address dialled.
func (s *Security) TLSConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", s.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Secured returns the --security file or an error for a scenario run without one.
func (s *Scenario) Secured() (*Security, error) {
	if s.Security == nil {
		return nil, fmt.Errorf("security scenario without --security FILE")
	}
	return s.Security, nil
}

// SecurityClient is what the security scenarios need of a driver.
type SecurityClient struct {
	// OAuthBearer: the driver implements OAUTHBEARER (else it is a skipped check).
	OAuthBearer bool
	// Use makes every client the driver creates connect with the settings of the protocol's
	// listener as user (mechanism "": no SASL) until the returned function is called.
	Use func(sec *Security, protocol, mechanism string, user User) (restore func(), err error)
	// Produce sends recs to partition p of s.Topic and returns their delivery offsets.
	Produce func(ctx context.Context, s *Scenario, recs []Record, p int32) ([]int64, error)
	// Consume reads n records of partition p of s.Topic from offset 0.
	Consume func(ctx context.Context, s *Scenario, p int32, n int) ([]Record, error)
	// Attempt connects over SASL_PLAINTEXT with the mechanism as user/password (nil: logged in);
	// for OAUTHBEARER the password is the token to send.
	Attempt func(ctx context.Context, sec *Security, mechanism, user, password string) error
	// Login connects like Attempt and lists the topics (an error already described).
	Login func(ctx context.Context, sec *Security, mechanism, user, password string) ([]string, error)
	// AuthFailure is the client's name of SASL_AUTHENTICATION_FAILED, IsAuthFailure tells it.
	AuthFailure   string
	IsAuthFailure func(error) bool
	// Refused renders a refusal for the "refused" fact; Describe renders any other error.
	Refused, Describe func(error) string
}

// withSecured runs fn with the scenario's bootstrap on the protocol's listener and the client's
// settings for it in force.
func (c *SecurityClient) withSecured(s *Scenario, protocol, mechanism string, fn func() error) error {
	sec, err := s.Secured()
	if err != nil {
		return err
	}
	restore, err := c.Use(sec, protocol, mechanism, sec.Users[mechanism])
	if err != nil {
		return err
	}
	bootstrap := s.Bootstrap
	s.Bootstrap = sec.Addr(protocol)
	defer func() { s.Bootstrap = bootstrap; restore() }()
	return fn()
}

// securedRoundtrip produces standard records 0..n-1 to partition p of T(s) and reads them back identical.
func (c *SecurityClient) securedRoundtrip(ctx context.Context, s *Scenario, n int, p int32, label string) error {
	recs := StandardRange(s.Name, 0, n)
	return ReadBack(s, label, recs, true,
		func() ([]int64, error) { return c.Produce(ctx, s, recs, p) },
		func() ([]Record, error) { return c.Consume(ctx, s, p, n) })
}

// SSL is the security-ssl scenario.
func (c *SecurityClient) SSL(ctx context.Context, s *Scenario) error {
	err := c.withSecured(s, "SSL", "", func() error { return c.securedRoundtrip(ctx, s, 20, 0, "SSL") })
	if err == nil {
		s.Fact("ca_verified", true)
	}
	return err
}

// mechanisms are the mechanisms the driver implements; the others are skipped checks of s.
func (c *SecurityClient) mechanisms(s *Scenario) []string {
	var usable []string
	for _, mech := range Mechanisms {
		if mech == OAuthBearer && !c.OAuthBearer {
			s.Skip(mech + ": not implemented in this driver")
			continue
		}
		usable = append(usable, mech)
	}
	return usable
}

// SASL is the security-sasl-plaintext or security-sasl-ssl scenario.
func (c *SecurityClient) SASL(protocol string) Func {
	return func(ctx context.Context, s *Scenario) error {
		var used []string
		for _, mech := range c.mechanisms(s) {
			m := slices.Index(Mechanisms, mech)
			s.Step("%s: produce and read back", mech)
			if err := c.withSecured(s, protocol, mech, func() error {
				return c.securedRoundtrip(ctx, s, 10, int32(m), mech)
			}); err != nil {
				return err
			}
			used = append(used, mech)
			s.Fact("mechanisms", used)
		}
		return nil
	}
}

// AuthFailureScenario is the security-auth-failure scenario.
func (c *SecurityClient) AuthFailureScenario(ctx context.Context, s *Scenario) error {
	sec, err := s.Secured()
	if err != nil {
		return err
	}
	refused := map[string]string{}
	usable := c.mechanisms(s)
	for _, mech := range usable {
		u := sec.Users[mech]
		attempts := []struct{ what, user, password string }{
			{"wrong password", u.Username, sec.WrongPassword},
			{"unknown user", sec.UnknownUser, u.Password},
		}
		if mech == OAuthBearer {
			attempts = []struct{ what, user, password string }{
				{"expired token", u.Username, sec.ExpiredToken},
				{"signed token", u.Username, sec.BadToken},
			}
		}
		for _, a := range attempts {
			s.Step("%s %s: authentication error", mech, a.what)
			err := c.Attempt(ctx, sec, mech, a.user, a.password)
			if err == nil {
				return fmt.Errorf("%s %s: expected %s, got a successful login", mech, a.what, c.AuthFailure)
			}
			if !c.IsAuthFailure(err) {
				return fmt.Errorf("%s %s: expected %s (code 58), got %s", mech, a.what, c.AuthFailure, c.Describe(err))
			}
			refused[mech+" "+a.what] = c.Refused(err)
		}
		s.Step("%s: metadata with the right credentials after the refusals", mech)
		topics, err := c.Login(ctx, sec, mech, u.Username, u.Secret(mech))
		if err != nil {
			return fmt.Errorf("%s login after the refusals: %v", mech, err)
		}
		if !slices.Contains(topics, s.Topic) {
			return fmt.Errorf("%s login after the refusals: %s not listed (got %d topics)", mech, s.Topic, len(topics))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	s.Fact("refused", refused)
	s.Fact("mechanisms", usable)
	return nil
}
