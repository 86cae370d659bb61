// Package mailtest runs an SMTP server inside the test process that records the
// emails it accepts, so that tests send real SMTP without an outside service.
package mailtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a Server; the zero value accepts every email without TLS or AUTH.
type Options struct {
	// TLS makes the server offer STARTTLS with a certificate for 127.0.0.1,
	// which the Server's ClientTLS trusts.
	TLS bool
	// Username and Password, when set, are required before MAIL. Like real
	// servers, this one offers AUTH only over TLS, so they need TLS.
	Username, Password string
	// Reject lists recipients that the server refuses with a permanent error.
	Reject []string
}

// Email is one email the server accepted.
type Email struct {
	From string
	To   []string
	// Data is the message as received: headers and MIME body.
	Data []byte
	// Username is who authenticated, "" without AUTH.
	Username string
	// TLS reports whether the connection was encrypted.
	TLS bool
}

// Server is a running SMTP server.
type Server struct {
	// URL reaches the server: smtp://[user:pass@]127.0.0.1:port.
	URL string
	// ClientTLS trusts the server's certificate; nil without Options.TLS.
	ClientTLS *tls.Config

	opts   Options
	mu     sync.Mutex
	emails []Email
}

// Start starts a server on a free port of 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Username != "" && !opts.TLS {
		t.Fatal("mailtest: AUTH is offered only over TLS; set Options.TLS")
	}
	s := &Server{opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "127.0.0.1"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = testLog{t}
	if opts.TLS {
		serverTLS, clientTLS, err := selfSigned()
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		srv.TLSConfig, s.ClientTLS = serverTLS, clientTLS
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	u := url.URL{Scheme: "smtp", Host: l.Addr().String()}
	if opts.Username != "" {
		u.User = url.UserPassword(opts.Username, opts.Password)
	}
	s.URL = u.String()
	go srv.Serve(l) //nolint:errcheck // returns when the listener closes
	t.Cleanup(func() {
		// Shutdown waits for the connection goroutines, which log to t: a log
		// after the test has ended would panic.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
	})
	return s
}

// Emails returns the emails accepted so far, in the order they arrived.
func (s *Server) Emails() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.emails)
}

func (s *Server) record(e Email) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emails = append(s.emails, e)
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	sess := &session{server: s, conn: c}
	if s.opts.Username == "" {
		return sess, nil
	}
	return &authSession{sess}, nil
}

// session collects one email; go-smtp makes a session per connection and
// calls Reset between emails.
type session struct {
	server *Server
	conn   *smtp.Conn
	authed string
	email  Email
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.server.opts.Username != "" && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	_, encrypted := s.conn.TLSConnectionState()
	s.email = Email{From: from, Username: s.authed, TLS: encrypted}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if slices.Contains(s.server.opts.Reject, to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
	}
	s.email.To = append(s.email.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.email.Data = data
	s.server.record(s.email)
	return nil
}

func (s *session) Reset()        { s.email = Email{} }
func (s *session) Logout() error { return nil }

// authSession is a session that offers AUTH PLAIN: go-smtp advertises AUTH only
// for sessions that implement smtp.AuthSession.
type authSession struct{ *session }

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != s.server.opts.Username || password != s.server.opts.Password {
			return errors.New("invalid username or password")
		}
		s.authed = username
		return nil
	}), nil
}

// selfSigned makes a certificate for 127.0.0.1 and a client configuration that trusts it.
func selfSigned() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	client = &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client, nil
}

// testLog sends the server's connection errors to the test log instead of stderr.
type testLog struct{ t testing.TB }

func (l testLog) Printf(format string, v ...any) { l.t.Logf("mailtest: "+format, v...) }
func (l testLog) Println(v ...any)               { l.t.Log(append([]any{"mailtest:"}, v...)...) }
