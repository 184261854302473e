package conf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// Mechanisms are the SASL mechanisms of the security scenarios, in partition order (mechanism m
// writes to partition m of T(security-sasl-*)).
var Mechanisms = []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}

// User is one login of the --security file.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
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
