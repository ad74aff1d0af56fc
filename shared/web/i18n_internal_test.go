package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/kyc"
)

// Every state a document can show has its words in both languages: the
// pages build the key from the state, and a missing key is a panic on a
// customer's page.
func TestEveryDocumentStateHasItsWords(t *testing.T) {
	for _, k := range []string{
		string(kyc.DocPendingUpload), string(kyc.DocScanning), string(kyc.DocValid), string(kyc.DocInvalid), string(kyc.DocPurged),
		string(kyc.ResultApproved), string(kyc.ResultRejected), string(kyc.ResultResubmit),
	} {
		l, ok := messages["doc."+k]
		if !ok || l[0] == "" || l[1] == "" {
			t.Errorf("no words in both languages for doc.%s", k)
		}
	}
}

// Every hold state has its words in both languages, for the customer
// (hold.*) and for staff (staffhold.*, shown beside the code): the states
// are read from the source of package kyc (its HoldState constants).
func TestEveryHoldStateHasItsWords(t *testing.T) {
	states := consts(t, filepath.Join("..", "kyc", "policy.go"), func(_, typ string) bool { return typ == "HoldState" })
	if len(states) < 9 {
		t.Fatalf("read %d hold states: the source moved?", len(states))
	}
	for _, st := range states {
		for _, prefix := range []string{"hold.", "staffhold."} {
			if l, ok := messages[prefix+st]; !ok || l[0] == "" || l[1] == "" {
				t.Errorf("no words in both languages for %s%s", prefix, st)
			}
		}
	}
}

// Every action the audit trail records has its words in both languages, and
// so does every kind of actor: the actions are read from the source of
// package kyc (the string given as an AuditEntry's Action, or as the action
// of a hold's change, and "staff." with each StaffActionKind), so an action
// added there without words here fails this test.
func TestEveryAuditActionHasItsWords(t *testing.T) {
	actions := auditActions(t)
	for _, k := range consts(t, filepath.Join("..", "kyc", "billing.go"), func(_, typ string) bool { return typ == "StaffActionKind" }) {
		actions = append(actions, "staff."+k)
	}
	if len(actions) < 30 {
		t.Fatalf("read %d actions: the source moved?", len(actions))
	}
	for _, a := range actions {
		if l, ok := messages["action."+a]; !ok || l[0] == "" || l[1] == "" {
			t.Errorf("no words in both languages for the audited action %s", a)
		}
	}
	kinds := consts(t, filepath.Join("..", "kyc", "audit.go"), func(_, typ string) bool { return typ == "ActorKind" })
	if len(kinds) < 5 {
		t.Fatalf("read %d actor kinds: the source moved?", len(kinds))
	}
	for _, k := range kinds {
		if l, ok := messages["actor."+k]; !ok || l[0] == "" || l[1] == "" {
			t.Errorf("no words in both languages for the actor kind %s", k)
		}
	}
}

// auditActions reads the audited actions from package kyc's source: string
// literals given as the Action of an AuditEntry, or as the last argument of
// a call of apply (a hold's change).
func auditActions(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "kyc", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(e ast.Expr) {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, _ := strconv.Unquote(lit.Value)
			out = append(out, v)
		}
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "AuditEntry" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "Action" {
								add(kv.Value)
							}
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "apply" && len(n.Args) == 3 {
					add(n.Args[2])
				}
			}
			return true
		})
	}
	return out
}

// consts returns the values of the string constants declared in a Go
// source file that keep accepts (by name and declared type).
func consts(t *testing.T, file string, keep func(name, typ string) bool) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			typ := ""
			if id, ok := vs.Type.(*ast.Ident); ok {
				typ = id.Name
			}
			for i, name := range vs.Names {
				if i >= len(vs.Values) || !keep(name.Name, typ) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// Every signal the policy engine can raise, and every field a signal can
// name, has its words in both languages: the codes and fields are read
// from the source of package idcheck (its Code and Field constants) and of
// package kyc (its Warn constants), so a signal added there without words
// here fails this test rather than showing a code on a reviewer's page.
func TestEverySignalHasItsWords(t *testing.T) {
	codes := consts(t, filepath.Join("..", "kyc", "idcheck", "idcheck.go"), func(_, typ string) bool { return typ == "Code" })
	codes = append(codes, consts(t, filepath.Join("..", "kyc", "signals.go"), func(name, _ string) bool { return strings.HasPrefix(name, "Warn") })...)
	fields := consts(t, filepath.Join("..", "kyc", "idcheck", "idcheck.go"), func(_, typ string) bool { return typ == "Field" })
	fields = append(fields, "documentExpiry", "addressDate", "fullName", "address", "birthDate")
	if len(codes) < 15 || len(fields) < 13 {
		t.Fatalf("read %d codes and %d fields: the source moved?", len(codes), len(fields))
	}
	for _, c := range codes {
		if l, ok := messages["signal."+c]; !ok || l[0] == "" || l[1] == "" {
			t.Errorf("signal %s has no words in both languages", c)
		}
	}
	for _, f := range fields {
		if l, ok := messages["field."+f]; !ok || l[0] == "" || l[1] == "" {
			t.Errorf("field %s has no words in both languages", f)
		}
	}
	for _, f := range consts(t, filepath.Join("..", "kyc", "idcheck", "idcheck.go"), func(_, typ string) bool { return typ == "Format" }) {
		if _, ok := messages["format."+f]; !ok && f != "none" && !strings.HasPrefix(f, "mrz_") {
			t.Errorf("number format %s has no words", f)
		}
	}
	for _, f := range []kyc.SubmissionStatus{kyc.SubPending, kyc.SubApproved, kyc.SubRejected} {
		if _, ok := messages["sub."+string(f)]; !ok {
			t.Errorf("submission status %s has no words", f)
		}
	}
}
