package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Header returns a header of the email, with encoded words decoded, or "" if
// the email has no such header or does not parse.
func (e Email) Header(name string) string {
	m, err := mail.ReadMessage(bytes.NewReader(e.Data))
	if err != nil {
		return ""
	}
	v := m.Header.Get(name)
	if decoded, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
		return decoded
	}
	return v
}

// Bodies returns the decoded text of each part of the email by media type, such
// as "text/plain" and "text/html", as a mail client would show them.
func (e Email) Bodies() (map[string]string, error) {
	m, err := mail.ReadMessage(bytes.NewReader(e.Data))
	if err != nil {
		return nil, err
	}
	bodies := map[string]string{}
	err = collect(bodies, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	return bodies, err
}

// collect adds the text of a part to bodies, descending into multipart parts.
func collect(bodies map[string]string, contentType, encoding string, r io.Reader) error {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		text, err := io.ReadAll(decoder(encoding, r))
		bodies[mediaType] = string(text)
		return err
	}
	parts := multipart.NewReader(r, params["boundary"])
	for {
		p, err := parts.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		// multipart decodes quoted-printable itself and drops the header.
		if err := collect(bodies, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
			return err
		}
	}
}

func decoder(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r)
	default:
		return r
	}
}
