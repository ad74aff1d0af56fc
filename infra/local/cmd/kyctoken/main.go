// Command kyctoken is `make -s token ROLE=customer|reviewer|admin SUB=<id>`:
// it prints a JWT for the local stack, and nothing else. The issuer and
// audience are the running stack's ($KYC_LOCAL_DIR/stack.json), else the
// synthesized template's; the key is the local signing key
// ($KYC_LOCAL_DIR/jwt/key.pem, created on first use), which only the local
// dev server trusts.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kycgate/kycgate/infra/local/dev/localjwt"
	"github.com/kycgate/kycgate/infra/local/stack"
)

func main() {
	role := flag.String("role", "", "customer, reviewer or admin")
	sub := flag.String("sub", "", "the token's subject: a customer id, or a staff member's id")
	flag.Parse()
	tok, err := run(*role, *sub)
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		fmt.Fprintln(os.Stderr, "usage: make -s token ROLE="+strings.Join(localjwt.RoleNames(), "|")+" SUB=<id>")
		os.Exit(2)
	}
	fmt.Println(tok)
}

func run(role, sub string) (string, error) {
	if role == "" {
		return "", fmt.Errorf("ROLE is required")
	}
	if _, ok := localjwt.Roles[role]; !ok {
		return "", fmt.Errorf("unknown ROLE %q: want one of %s", role, strings.Join(localjwt.RoleNames(), ", "))
	}
	if sub == "" {
		return "", fmt.Errorf("SUB is required (the customer or staff id)")
	}
	dir := localDir()
	a, err := authorizer(dir)
	if err != nil {
		return "", err
	}
	key, err := localjwt.LoadOrCreateKey(dir)
	if err != nil {
		return "", err
	}
	return localjwt.Token(key, a, role, sub, time.Now())
}

// authorizer is the running stack's JWT authorizer, else the template's.
func authorizer(dir string) (localjwt.Authorizer, error) {
	path := dir + "/stack.json"
	if _, err := os.Stat(path); err == nil {
		st, err := stack.Load(path)
		if err != nil {
			return localjwt.Authorizer{}, err
		}
		if st.Authorizer == nil {
			return localjwt.Authorizer{}, fmt.Errorf("%s has no JWT authorizer", path)
		}
		return localjwt.Authorizer{Issuer: st.Authorizer.Issuer, Audience: st.Authorizer.Audience}, nil
	}
	tpl := os.Getenv("KYC_TEMPLATE")
	if tpl == "" {
		tpl = "cdk.out/KycGate.template.json"
	}
	b, err := os.ReadFile(tpl)
	if err != nil {
		return localjwt.Authorizer{}, fmt.Errorf("no running stack (%s) and no template (%v): run make synth or make dev first", path, err)
	}
	return localjwt.FromTemplate(b)
}

func localDir() string {
	if d := os.Getenv("KYC_LOCAL_DIR"); d != "" {
		return d
	}
	return ".local"
}
