package dev

import (
	"context"
	"fmt"

	"github.com/kycgate/kycgate/infra/local/stack"
	"github.com/kycgate/kycgate/shared/wiring"
)

// Build builds one function of the stack, as its Lambda main does
// (wiring.Main), from the function's environment in the deployed template.
func Build(ctx context.Context, st *stack.Stack, name string, c wiring.Clients, h wiring.Host) (*wiring.Function, error) {
	fn, ok := st.Functions[name]
	if !ok {
		return nil, fmt.Errorf("no function %q in the stack (it has %v)", name, st.FunctionNames())
	}
	def, ok := wiring.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("function %q of the template is not one of wiring.All", name)
	}
	return def.Build(ctx, func(k string) string { return fn.Env[k] }, c, h)
}
