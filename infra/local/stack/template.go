package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// template is the part of a CloudFormation template the deployer reads.
// Outputs, Rules (CDK's bootstrap version check) and Metadata are not read.
type template struct {
	Parameters map[string]parameter                 `json:"Parameters"`
	Conditions map[string]any                       `json:"Conditions"`
	Mappings   map[string]map[string]map[string]any `json:"Mappings"`
	Resources  map[string]*resource                 `json:"Resources"`
	Transform  any                                  `json:"Transform"`
}

type parameter struct {
	Type    string `json:"Type"`
	Default any    `json:"Default"`
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	DependsOn  any            `json:"DependsOn"` // a string or a list of strings
	Condition  string         `json:"Condition"`
}

// parseTemplate decodes a template, keeping numbers exact (json.Number).
func parseTemplate(b []byte) (*template, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var t template
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(t.Resources) == 0 {
		return nil, fmt.Errorf("parse template: no Resources")
	}
	if t.Transform != nil {
		return nil, fmt.Errorf("parse template: Transform %v is not supported (synthesize a plain template)", t.Transform)
	}
	for id, r := range t.Resources {
		if r == nil || r.Type == "" {
			return nil, fmt.Errorf("parse template: resource %s has no Type", id)
		}
	}
	return &t, nil
}

// dependsOn lists the resource's explicit DependsOn entries.
func (r *resource) dependsOn() ([]string, error) {
	switch v := r.DependsOn.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("DependsOn: %v is not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("DependsOn: unexpected %T", r.DependsOn)
}

// references lists the logical ids (resources or parameters) a value refers
// to through Ref, Fn::GetAtt and Fn::Sub. Pseudo parameters are left out.
func references(v any, into map[string]bool) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			references(e, into)
		}
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				switch k {
				case "Ref":
					if s, ok := arg.(string); ok && !strings.HasPrefix(s, "AWS::") {
						into[s] = true
					}
					return
				case "Fn::GetAtt":
					switch a := arg.(type) {
					case []any:
						if len(a) > 0 {
							if s, ok := a[0].(string); ok {
								into[s] = true
							}
						}
					case string:
						id, _, _ := strings.Cut(a, ".")
						into[id] = true
					}
					return
				case "Fn::Sub":
					var str string
					var vars map[string]any
					switch a := arg.(type) {
					case string:
						str = a
					case []any:
						if len(a) > 0 {
							str, _ = a[0].(string)
						}
						if len(a) > 1 {
							vars, _ = a[1].(map[string]any)
							references(a[1], into)
						}
					}
					for _, name := range subNames(str) {
						id, _, _ := strings.Cut(name, ".")
						if _, local := vars[name]; local || strings.HasPrefix(id, "AWS::") {
							continue
						}
						into[id] = true
					}
					return
				}
			}
		}
		for _, e := range x {
			references(e, into)
		}
	}
}

// subNames returns the ${...} names of an Fn::Sub string (not ${!literal}).
func subNames(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return out
		}
		name := s[i+2 : i+j]
		if !strings.HasPrefix(name, "!") {
			out = append(out, strings.TrimSpace(name))
		}
		s = s[i+j+1:]
	}
}

// order returns the ids in an order where every resource comes after the ones
// it references or depends on. Only edges between ids in the set count.
// Ties are broken by id, so the order is deterministic.
func order(ids []string, deps map[string][]string) ([]string, error) {
	in := make(map[string]bool, len(ids))
	for _, id := range ids {
		in[id] = true
	}
	indeg := map[string]int{}
	users := map[string][]string{}
	for _, id := range ids {
		indeg[id] += 0
		seen := map[string]bool{}
		for _, d := range deps[id] {
			if !in[d] || d == id || seen[d] {
				continue
			}
			seen[d] = true
			indeg[id]++
			users[d] = append(users[d], id)
		}
	}
	var ready, out []string
	for _, id := range ids {
		if indeg[id] == 0 {
			ready = append(ready, id)
		}
	}
	sort.Strings(ready)
	for len(ready) > 0 {
		id := ready[0]
		ready = ready[1:]
		out = append(out, id)
		var next []string
		for _, u := range users[id] {
			if indeg[u]--; indeg[u] == 0 {
				next = append(next, u)
			}
		}
		ready = append(ready, next...)
		sort.Strings(ready)
	}
	if len(out) != len(ids) {
		var cyc []string
		for _, id := range ids {
			if indeg[id] > 0 {
				cyc = append(cyc, id)
			}
		}
		sort.Strings(cyc)
		return nil, fmt.Errorf("dependency cycle among %s", strings.Join(cyc, ", "))
	}
	return out, nil
}
