package pages

import (
	"html/template"
	"net/http"
)

// confirmEmailForm is the page of the link sent to a login's new address.
var confirmEmailForm = view{Title: "Confirm your new address", Action: "/confirm-email",
	PasswordHint: "Your Staffroom login will use this address from now on; your old address stops working for it.",
	Submit:       "Confirm my new address"}

// confirmEmail serves /confirm-email: the link shows a button, and pressing it
// confirms, so that a mail scanner opening the link changes nothing.
func (p *pages) confirmEmail(t *template.Template) (show, post http.HandlerFunc) {
	show = func(w http.ResponseWriter, r *http.Request) {
		v := confirmEmailForm
		v.Token = r.URL.Query().Get("token")
		p.render(w, r, t, http.StatusOK, v)
	}
	post = func(w http.ResponseWriter, r *http.Request) {
		err := form(w, r)
		if err == nil {
			err = p.allow(r)
		}
		v := confirmEmailForm
		v.Token = r.PostForm.Get("token")
		if err == nil {
			err = p.Auth.ConfirmEmailChange(r.Context(), v.Token)
		}
		if err != nil {
			var status int
			v.Error, status = p.failure(r.Context(), err)
			p.render(w, r, t, status, v)
			return
		}
		p.render(w, r, p.done, http.StatusOK, view{Title: "Address changed",
			Done: "Your login's address is changed.", Next: "Sign in to Staffroom with the new address from now on."})
	}
	return show, post
}
