// Command kycsignin is `make -s signin ROLE=customer|reviewer|admin SUB=<id>`:
// it asks the running dev server for a one-time URL that signs that person
// in the way production sign-in does, and prints the URL, nothing else. A
// customer's URL opens a dev-server page that posts a fresh sign-in token
// (signed with the local key, as the billing system signs) to
// /verify/signin; a staff member's URL goes through the console's OpenID
// Connect sign-in at the dev server's local issuer. No token is in the URL:
// it carries a one-time nonce, valid 10 minutes.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kycgate/kycgate/infra/local/dev"
	"github.com/kycgate/kycgate/infra/local/dev/localjwt"
)

func main() {
	role := flag.String("role", "", "customer, reviewer or admin")
	sub := flag.String("sub", "", "the customer id, or the staff member's id")
	flag.Parse()
	u, err := run(*role, *sub)
	if err != nil {
		fmt.Fprintln(os.Stderr, "signin:", err)
		fmt.Fprintln(os.Stderr, "usage: make -s signin ROLE="+strings.Join(localjwt.RoleNames(), "|")+" SUB=<id>   (with make dev running)")
		os.Exit(2)
	}
	fmt.Println(u)
}

func run(role, sub string) (string, error) {
	if _, ok := localjwt.Roles[role]; !ok {
		return "", fmt.Errorf("unknown ROLE %q: want one of %s", role, strings.Join(localjwt.RoleNames(), ", "))
	}
	if sub == "" {
		return "", fmt.Errorf("SUB is required (the customer or staff id)")
	}
	api, err := dev.RunningAPI(dev.LocalDir())
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(dev.SigninRequest{Role: role, Sub: sub})
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Post(api+dev.SigninPath, "application/json", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("the dev server at %s does not answer (%v): start it with make dev", api, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	if res.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("the dev server refused: %s %s", res.Status, strings.TrimSpace(string(b)))
	}
	var out struct{ URL string }
	if err := json.Unmarshal(b, &out); err != nil || out.URL == "" {
		return "", fmt.Errorf("the dev server answered %s", b)
	}
	return out.URL, nil
}
