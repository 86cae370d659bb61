package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// SMTPMailer sends email through an SMTP server. It opens a connection per
// email, so that one broken connection fails one email, and it is safe for
// concurrent use.
type SMTPMailer struct {
	client *gomail.Client
	from   string
	domain string // of the sender: the right-hand side of Message-IDs
	server string // host:port for errors, without the credentials
}

// NewSMTPMailer returns a mailer that sends from the address from through the
// server that rawURL names. smtp://user:pass@host:port (port 587 by default)
// upgrades to TLS with STARTTLS when the server offers it, so that a local
// catcher without TLS works; smtps:// (port 465 by default) speaks TLS from the
// start. The credentials are optional, and the password is never sent in clear
// text over an unencrypted connection.
func NewSMTPMailer(rawURL, from string) (*SMTPMailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Parse quotes the URL in its error, and the URL holds the password.
		return nil, errors.New("mail: the SMTP URL does not parse: want smtp://user:pass@host:port, " +
			"with special characters in the user and password percent-encoded")
	}
	sender, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: sender %q: %w", from, err)
	}
	port, err := smtpPort(u)
	if err != nil {
		return nil, err
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTLSPolicy(gomail.TLSOpportunistic),
	}
	if u.Scheme == "smtps" {
		opts = append(opts, gomail.WithSSL())
	}
	if name := u.User.Username(); name != "" {
		pass, _ := u.User.Password()
		// Auto-discovery picks the strongest mechanism the server offers and,
		// without TLS, only ones that do not reveal the password.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(name), gomail.WithPassword(pass))
	}
	client, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP client for %s: %w", u.Host, err)
	}
	return &SMTPMailer{
		client: client,
		from:   sender.String(),
		domain: sender.Address[strings.LastIndexByte(sender.Address, '@')+1:],
		server: net.JoinHostPort(u.Hostname(), strconv.Itoa(port)),
	}, nil
}

// smtpPort checks the scheme and host of an SMTP URL and returns its port.
func smtpPort(u *url.URL) (int, error) {
	defaultPort := 0
	switch u.Scheme {
	case "smtp":
		defaultPort = 587
	case "smtps":
		defaultPort = 465
	default:
		return 0, fmt.Errorf("mail: unsupported SMTP URL scheme %q: use smtp:// or smtps://", u.Scheme)
	}
	if u.Hostname() == "" {
		return 0, errors.New("mail: the SMTP URL names no host: want smtp://user:pass@host:port")
	}
	if u.Port() == "" {
		return defaultPort, nil
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("mail: SMTP port %q is not a port number", u.Port())
	}
	return port, nil
}

// Send delivers the email: a plain-text body, with the HTML as an alternative
// when there is one.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	msg, err := s.message(m)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUndeliverable, err)
	}
	err = s.client.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	if refused(err) {
		return fmt.Errorf("%w: %s refused it: %w", ErrUndeliverable, s.server, err)
	}
	return fmt.Errorf("mail: send through %s: %w", s.server, err)
}

func (s *SMTPMailer) message(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	}
	switch {
	case m.HTML == "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	case m.Text == "":
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// refused reports whether the server answered the email with a permanent (5xx)
// error. Failures before the email, such as a refused login, are not counted:
// fixing the configuration makes them pass.
func refused(err error) bool {
	var sendErr *gomail.SendError
	return errors.As(err, &sendErr) && sendErr.ErrorCode() >= 500 && sendErr.ErrorCode() < 600
}
