package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"

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
	mux.Handle("/", notFound(log))
	return mux
}
