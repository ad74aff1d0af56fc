package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/kycgate/kycgate/shared/contract"
)

// mount registers a function's handlers on a mux, exactly the routes
// contract.Routes gives that function: a route without a handler, or a
// handler without a route, is a programming error found at start.
func mount(function string, handlers map[string]handler, auth Authenticator, log *slog.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	routes := contract.APIRoutesOf(function) // the pages are shared/web's
	for _, rt := range routes {
		h, ok := handlers[rt.Pattern]
		if !ok {
			panic(fmt.Sprintf("httpapi: route %q of %s has no handler", rt.Pattern, function))
		}
		var hh http.Handler = serve(log, h)
		if rt.Auth == contract.AuthJWT {
			hh = authenticate(auth, hh)
		}
		mux.Handle(rt.Pattern, hh)
	}
	for pattern := range handlers {
		if !slices.ContainsFunc(routes, func(r contract.Route) bool { return r.Pattern == pattern }) {
			panic(fmt.Sprintf("httpapi: handler %q of %s is not a route in contract.Routes", pattern, function))
		}
	}
	mux.Handle("/", Fallback(mux, "no such route"))
	return mux
}

// methods are the methods Fallback tries for an Allow header: those the API
// has routes of, and the other ones that change things.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// Fallback answers the requests that no other pattern of mux matches (mount
// it as mux's catch-all "/"): 405 with an Allow header listing the methods
// the path takes when it is a route of other methods, otherwise 404 with
// notFound as its detail; both as problem details. Go's ServeMux answers 405
// itself only when no catch-all pattern matches, so a catch-all must do it.
func Fallback(mux *http.ServeMux, notFound string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			WriteProblem(w, errMethod.status, errMethod.code, errMethod.message)
			return
		}
		WriteProblem(w, errNoRoute.status, errNoRoute.code, notFound)
	})
}

// allowed returns the methods with which r's path matches a pattern of mux
// other than the catch-all "/".
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range methods {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			out = append(out, m)
		}
	}
	return out
}
