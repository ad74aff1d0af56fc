package dev

import (
	"context"
	"fmt"
	"sort"

	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/app"
	"github.com/kycgate/kycgate/shared/contract"
)

// Constructors maps every function name to the constructor its Lambda main
// (functions/<name>/main.go) passes to app.Main, so the dev server and
// `make invoke` run exactly the code Lambda runs, wired the same way.
var Constructors = map[string]app.Constructor{
	contract.FunctionCustomerAPI:    app.NewCustomerAPI,
	contract.FunctionAdminAPI:       app.NewAdminAPI,
	contract.FunctionBillingIntake:  app.NewBillingIntake,
	contract.FunctionValidator:      app.NewValidatorFunction,
	contract.FunctionSweep:          app.NewSweep,
	contract.FunctionBillingAdapter: app.NewBillingAdapter,
	contract.FunctionNotifier:       app.NewNotifier,
}

// Build builds one function of the stack with its resolved environment.
func Build(ctx context.Context, st *stack.Stack, name string, c app.Clients, o app.Options, b app.Bindings) (*app.Function, error) {
	fn, ok := st.Functions[name]
	if !ok {
		return nil, fmt.Errorf("no function %q in the stack (it has %v)", name, st.FunctionNames())
	}
	build, ok := Constructors[name]
	if !ok {
		return nil, fmt.Errorf("function %q has no constructor in infra/local/dev (known: %v)", name, knownFunctions())
	}
	f, err := build(ctx, func(k string) string { return fn.Env[k] }, c, o, b)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", name, err)
	}
	return f, nil
}

func knownFunctions() []string {
	var names []string
	for n := range Constructors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
