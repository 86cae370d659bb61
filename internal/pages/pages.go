// Package pages serves the small, server-rendered pages behind the links that
// Staffroom emails — accept an invitation, choose a new password, confirm an
// email address or a new one — for installations without a front end of their
// own. They call the same domain functions as the GraphQL mutations, work
// without JavaScript, refuse cross-origin form posts and carry a strict
// content-security policy.
package pages

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"log/slog"
	"net/http"

	"staffroom/internal/auth"
	"staffroom/internal/errcode"
	"staffroom/internal/invitation"
	"staffroom/internal/requestmeta"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed style.css
var styleSheet []byte

// Paths are the paths the pages answer, as the emailed links name them.
var Paths = []string{"/invitation", "/reset-password", "/verify-email", "/confirm-email", "/pages/style.css"}

// maxFormBytes bounds a posted form: a token, a password and a few names.
const maxFormBytes = 16 << 10

// Deps are what the pages need: the domain services and the limit of session
// operations per client address that the GraphQL API applies too.
type Deps struct {
	Invitations *invitation.Service
	Auth        *auth.Service
	Limiter     auth.RateLimiter
	Log         *slog.Logger
}

type pages struct {
	Deps
	invitation, password, done *template.Template
}

// Handler returns the pages' routes, under Paths.
func Handler(d Deps) http.Handler {
	parse := func(name string) *template.Template {
		return template.Must(template.ParseFS(templateFiles, "templates/layout.html", "templates/"+name))
	}
	p := &pages{Deps: d, invitation: parse("invitation.html"), password: parse("password.html"), done: parse("done.html")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /invitation", p.showInvitation)
	mux.HandleFunc("POST /invitation", p.acceptInvitation)
	showConfirm, postConfirm := p.confirmEmail(parse("confirm.html"))
	mux.HandleFunc("GET /confirm-email", showConfirm)
	mux.HandleFunc("POST /confirm-email", postConfirm)
	for path, pp := range p.passwordPages() {
		mux.HandleFunc("GET "+path, pp.show(p))
		mux.HandleFunc("POST "+path, pp.post(p))
	}
	mux.HandleFunc("GET /pages/style.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write(styleSheet) //nolint:errcheck // nothing to do for a client that went away
	})
	// Forms post to their own origin only: the browser's Sec-Fetch-Site and
	// Origin headers tell a cross-site post, which is refused.
	return withHeaders(http.NewCrossOriginProtection().Handler(mux))
}

// withHeaders sets what every page answers with: nothing loads from another
// origin or runs as a script, the page is never framed, and links carrying a
// token are neither cached nor sent on as a referrer.
func withHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// view is what a page template renders.
type view struct {
	Title, Error, Done, Next string
	Token                    string
	Invitation               *invitation.Preview
	Form                     map[string]string
	// The password form.
	Action, PasswordLabel, PasswordHint, Submit string
	PasswordRequired                            bool
}

func (p *pages) render(w http.ResponseWriter, r *http.Request, t *template.Template, status int, v view) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		p.Log.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck // nothing to do for a client that went away
}

// failure turns a domain error into what the page says and its status: the
// coded errors carry a message meant for people; anything else is logged.
func (p *pages) failure(ctx context.Context, err error) (string, int) {
	if e, ok := errcode.As(err); ok && e.Code != errcode.Internal {
		status := http.StatusBadRequest
		switch e.Code {
		case errcode.RateLimited:
			status = http.StatusTooManyRequests
		case errcode.InvalidCredentials, errcode.AccountLocked:
			status = http.StatusUnauthorized
		case errcode.InvitationInvalid, errcode.NotFound:
			status = http.StatusNotFound
		}
		return e.Message, status
	}
	p.Log.ErrorContext(ctx, "page action failed", "err", err)
	return "Something went wrong on our side. Please try again in a moment.", http.StatusInternalServerError
}

// allow applies the per-address limit of session operations.
func (p *pages) allow(r *http.Request) error {
	if p.Limiter == nil {
		return nil
	}
	return p.Limiter.Allow(r.Context(), requestmeta.FromContext(r.Context()).IP)
}

// form parses a posted form within maxFormBytes.
func form(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errcode.Input("", "the form could not be read")
	}
	return nil
}

func (p *pages) showInvitation(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	v := view{Title: "Join your team", Token: token}
	if err := p.allow(r); err != nil {
		v.Error, _ = p.failure(r.Context(), err)
		p.render(w, r, p.done, http.StatusTooManyRequests, v)
		return
	}
	preview, err := p.Invitations.Show(r.Context(), token)
	if err != nil {
		msg, status := p.failure(r.Context(), err)
		v.Title, v.Error = "This invitation cannot be used", msg
		p.render(w, r, p.done, status, v)
		return
	}
	v.Invitation = preview
	p.render(w, r, p.invitation, http.StatusOK, v)
}

func (p *pages) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Join your team"}
	err := form(w, r)
	if err == nil {
		err = p.allow(r)
	}
	token := r.PostForm.Get("token")
	v.Token = token
	v.Form = map[string]string{"firstName": r.PostForm.Get("firstName"), "lastName": r.PostForm.Get("lastName"), "phone": r.PostForm.Get("phone")}
	if err == nil {
		_, err = p.Invitations.Accept(r.Context(), invitation.AcceptInput{
			Token: token, Password: r.PostForm.Get("password"),
			FirstName: optional(r.PostForm, "firstName"), LastName: optional(r.PostForm, "lastName"), Phone: optional(r.PostForm, "phone"),
		})
	}
	if err != nil {
		msg, status := p.failure(r.Context(), err)
		v.Error = msg
		if preview, perr := p.Invitations.Show(r.Context(), token); perr == nil {
			v.Invitation = preview
			p.render(w, r, p.invitation, status, v)
			return
		}
		v.Title = "This invitation cannot be used"
		p.render(w, r, p.done, status, v)
		return
	}
	p.render(w, r, p.done, http.StatusOK, view{Title: "Welcome aboard", Done: "You have joined the organization.",
		Next: "Sign in to Staffroom with your email address and password from any of your apps."})
}

// passwordPage is a page that takes a link's token and a password: choosing a
// new password, confirming an address.
type passwordPage struct {
	form view
	// act runs the domain function with the link's token and the password.
	act  func(ctx context.Context, token, password string) (*auth.Session, error)
	done view
}

func (p *pages) passwordPages() map[string]passwordPage {
	return map[string]passwordPage{
		"/reset-password": {
			form: view{Title: "Choose a new password", Action: "/reset-password", PasswordLabel: "New password",
				PasswordHint: "8 to 128 characters. Every other session of your login ends.", Submit: "Set the new password",
				PasswordRequired: true},
			act: p.Auth.ResetPassword,
			done: view{Title: "Password changed", Done: "Your new password is set.",
				Next: "Sign in to Staffroom with it; your other sessions have ended."},
		},
		"/verify-email": {
			form: view{Title: "Confirm your email address", Action: "/verify-email", PasswordLabel: "Your password",
				PasswordHint: "The one you chose when you signed up, or a new one: it becomes your login's password.",
				Submit:       "Confirm my address", PasswordRequired: true},
			act: p.Auth.VerifyEmail,
			done: view{Title: "Address confirmed", Done: "Your email address is confirmed.",
				Next: "Sign in to Staffroom with it: you can now create organizations."},
		},
	}
}

// show renders the form of a link. Acting takes a press of the button: mail
// scanners that open every link must not confirm or reset anything on their own.
func (pp passwordPage) show(p *pages) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := pp.form
		v.Token = r.URL.Query().Get("token")
		p.render(w, r, p.password, http.StatusOK, v)
	}
}

// post acts on a submitted form; a refusal shows the form again with why.
func (pp passwordPage) post(p *pages) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := form(w, r)
		if err == nil {
			err = p.allow(r)
		}
		v := pp.form
		v.Token = r.PostForm.Get("token")
		if err == nil {
			_, err = pp.act(r.Context(), v.Token, r.PostForm.Get("password"))
		}
		if err != nil {
			var status int
			v.Error, status = p.failure(r.Context(), err)
			p.render(w, r, p.password, status, v)
			return
		}
		p.render(w, r, p.done, http.StatusOK, pp.done)
	}
}

// optional returns a form value, or nil when the field is empty.
func optional(f map[string][]string, key string) *string {
	if v := f[key]; len(v) > 0 && v[0] != "" {
		return &v[0]
	}
	return nil
}
