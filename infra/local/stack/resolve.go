package stack

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// physical is what a template resource became on the emulator: the value of
// its Ref and of its Fn::GetAtt attributes.
type physical struct {
	Ref   string
	Attrs map[string]string
}

// noValue is what {"Ref": "AWS::NoValue"} resolves to; the enclosing object
// or list drops it.
type noValueT struct{}

var noValue = noValueT{}

// resolver evaluates CloudFormation intrinsic functions against the
// emulator's physical names.
type resolver struct {
	pseudo     map[string]any                       // AWS::Region, AWS::AccountId, ...
	params     map[string]parameter                 // the template's Parameters
	overrides  map[string]string                    // Options.Parameters
	conditions map[string]any                       // the template's Conditions
	mappings   map[string]map[string]map[string]any // the template's Mappings
	// resource returns the physical form of a logical id, or an error saying
	// why there is none (unknown id, not created on the emulator, ...).
	resource func(id string) (physical, error)

	condCache map[string]bool
	condBusy  map[string]bool
}

// resolve returns v with every intrinsic function evaluated. path names v in
// errors (e.g. "Properties.Environment.Variables.KYC_TABLE").
func (r *resolver) resolve(v any, path string) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.resolve(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	case map[string]any:
		if fn, arg, ok := intrinsic(x); ok {
			rv, err := r.call(fn, arg, path)
			if err != nil {
				return nil, err
			}
			return rv, nil
		}
		out := make(map[string]any, len(x))
		for _, k := range sortedKeys(x) {
			rv, err := r.resolve(x[k], join(path, k))
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	}
	return v, nil
}

// resolveString resolves v and requires a scalar, returned as a string.
func (r *resolver) resolveString(v any, path string) (string, error) {
	rv, err := r.resolve(v, path)
	if err != nil {
		return "", err
	}
	s, err := scalar(rv)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func intrinsic(m map[string]any) (fn string, arg any, ok bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, v, true
		}
	}
	return "", nil, false
}

func (r *resolver) call(fn string, arg any, path string) (any, error) {
	at := join(path, fn)
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%s: want a name, got %s", at, describe(arg))
		}
		v, err := r.ref(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		return v, nil

	case "Fn::GetAtt":
		var id, attr string
		switch a := arg.(type) {
		case string:
			id, attr, _ = strings.Cut(a, ".")
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("%s: want [logicalId, attribute]", at)
			}
			id, _ = a[0].(string)
			s, err := r.resolveString(a[1], at+"[1]")
			if err != nil {
				return nil, err
			}
			attr = s
		}
		if id == "" || attr == "" {
			return nil, fmt.Errorf("%s: want [logicalId, attribute], got %s", at, describe(arg))
		}
		v, err := r.getAtt(id, attr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		return v, nil

	case "Fn::Join":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("%s: want [delimiter, list]", at)
		}
		delim, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s: delimiter must be a string", at)
		}
		parts, err := r.resolveList(a[1], at+"[1]")
		if err != nil {
			return nil, err
		}
		strs := make([]string, 0, len(parts))
		for i, p := range parts {
			s, err := scalar(p)
			if err != nil {
				return nil, fmt.Errorf("%s[1][%d]: %w", at, i, err)
			}
			strs = append(strs, s)
		}
		return strings.Join(strs, delim), nil

	case "Fn::Sub":
		return r.sub(arg, at)

	case "Fn::Select":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("%s: want [index, list]", at)
		}
		is, err := r.resolveString(a[0], at+"[0]")
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("%s[0]: index %q is not an integer", at, is)
		}
		list, err := r.resolveList(a[1], at+"[1]")
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("%s: index %d out of range (list of %d)", at, i, len(list))
		}
		return list[i], nil

	case "Fn::Split":
		a, ok := arg.([]any)
		if !ok || len(a) != 2 {
			return nil, fmt.Errorf("%s: want [delimiter, string]", at)
		}
		delim, ok := a[0].(string)
		if !ok || delim == "" {
			return nil, fmt.Errorf("%s: delimiter must be a non-empty string", at)
		}
		s, err := r.resolveString(a[1], at+"[1]")
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil

	case "Fn::If":
		a, ok := arg.([]any)
		if !ok || len(a) != 3 {
			return nil, fmt.Errorf("%s: want [condition, valueIfTrue, valueIfFalse]", at)
		}
		name, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s: condition must be a name", at)
		}
		c, err := r.condition(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		if c {
			return r.resolve(a[1], at+"[1]")
		}
		return r.resolve(a[2], at+"[2]")

	case "Fn::FindInMap":
		a, ok := arg.([]any)
		if !ok || len(a) < 3 {
			return nil, fmt.Errorf("%s: want [map, topKey, secondKey]", at)
		}
		var keys [3]string
		for i := range keys {
			s, err := r.resolveString(a[i], fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			keys[i] = s
		}
		v, ok := r.mappings[keys[0]][keys[1]][keys[2]]
		if !ok {
			return nil, fmt.Errorf("%s: no mapping %s.%s.%s", at, keys[0], keys[1], keys[2])
		}
		return r.resolve(v, at)

	case "Fn::Base64":
		s, err := r.resolveString(arg, at)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil

	case "Fn::GetAZs":
		region, _ := r.pseudo["AWS::Region"].(string)
		return []any{region + "a", region + "b", region + "c"}, nil

	case "Fn::ToJsonString":
		v, err := r.resolve(arg, at)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		return string(b), nil

	case "Fn::Length":
		list, err := r.resolveList(arg, at)
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.Itoa(len(list))), nil

	case "Fn::ImportValue":
		return nil, fmt.Errorf("%s: cross-stack imports cannot be resolved on the emulator", at)
	}
	return nil, fmt.Errorf("%s: unsupported intrinsic function", at)
}

// resolveList resolves v and requires a list.
func (r *resolver) resolveList(v any, path string) ([]any, error) {
	rv, err := r.resolve(v, path)
	if err != nil {
		return nil, err
	}
	list, ok := rv.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a list, got %s", path, describe(rv))
	}
	return list, nil
}

func (r *resolver) ref(name string) (any, error) {
	if strings.HasPrefix(name, "AWS::") {
		if name == "AWS::NoValue" {
			return noValue, nil
		}
		v, ok := r.pseudo[name]
		if !ok {
			return nil, fmt.Errorf("pseudo parameter %s is not supported", name)
		}
		return v, nil
	}
	if p, ok := r.params[name]; ok {
		return r.parameter(name, p)
	}
	ph, err := r.resource(name)
	if err != nil {
		return nil, err
	}
	return ph.Ref, nil
}

func (r *resolver) parameter(name string, p parameter) (any, error) {
	var s string
	if v, ok := r.overrides[name]; ok {
		s = v
	} else if p.Default != nil {
		if list, ok := p.Default.([]any); ok {
			return list, nil
		}
		d, err := scalar(p.Default)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: default: %w", name, err)
		}
		s = d
	} else {
		return nil, fmt.Errorf("parameter %s has no Default and no value in Options.Parameters", name)
	}
	if p.Type == "CommaDelimitedList" || strings.HasPrefix(p.Type, "List<") {
		var out []any
		for _, e := range strings.Split(s, ",") {
			out = append(out, strings.TrimSpace(e))
		}
		return out, nil
	}
	return s, nil
}

func (r *resolver) getAtt(id, attr string) (any, error) {
	ph, err := r.resource(id)
	if err != nil {
		return nil, err
	}
	v, ok := ph.Attrs[attr]
	if !ok {
		have := sortedKeys(ph.Attrs)
		return nil, fmt.Errorf("%s has no attribute %s on the emulator (has: %s)", id, attr, strings.Join(have, ", "))
	}
	return v, nil
}

func (r *resolver) sub(arg any, at string) (any, error) {
	var str string
	vars := map[string]string{}
	switch a := arg.(type) {
	case string:
		str = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("%s: want a string or [string, variables]", at)
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("%s[0]: want a string", at)
		}
		str = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s[1]: want an object of variables", at)
		}
		for _, k := range sortedKeys(m) {
			v, err := r.resolveString(m[k], join(at+"[1]", k))
			if err != nil {
				return nil, err
			}
			vars[k] = v
		}
	default:
		return nil, fmt.Errorf("%s: want a string or [string, variables]", at)
	}
	var b strings.Builder
	for {
		i := strings.Index(str, "${")
		if i < 0 {
			b.WriteString(str)
			return b.String(), nil
		}
		j := strings.Index(str[i:], "}")
		if j < 0 {
			return nil, fmt.Errorf("%s: unterminated ${ in %q", at, str)
		}
		b.WriteString(str[:i])
		name := str[i+2 : i+j]
		str = str[i+j+1:]
		if strings.HasPrefix(name, "!") { // ${!Literal} is the text ${Literal}
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		name = strings.TrimSpace(name)
		if v, ok := vars[name]; ok {
			b.WriteString(v)
			continue
		}
		var v any
		var err error
		if id, attr, isAtt := strings.Cut(name, "."); isAtt && !strings.HasPrefix(name, "AWS::") {
			v, err = r.getAtt(id, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: ${%s}: %w", at, name, err)
		}
		s, err := scalar(v)
		if err != nil {
			return nil, fmt.Errorf("%s: ${%s}: %w", at, name, err)
		}
		b.WriteString(s)
	}
}

// condition evaluates a named condition of the template.
func (r *resolver) condition(name string) (bool, error) {
	if v, ok := r.condCache[name]; ok {
		return v, nil
	}
	expr, ok := r.conditions[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	if r.condBusy[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	if r.condBusy == nil {
		r.condBusy = map[string]bool{}
	}
	r.condBusy[name] = true
	defer delete(r.condBusy, name)
	v, err := r.evalCondition(expr, "Conditions."+name)
	if err != nil {
		return false, err
	}
	if r.condCache == nil {
		r.condCache = map[string]bool{}
	}
	r.condCache[name] = v
	return v, nil
}

func (r *resolver) evalCondition(expr any, path string) (bool, error) {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("%s: want a condition function, got %s", path, describe(expr))
	}
	for fn, arg := range m {
		at := join(path, fn)
		switch fn {
		case "Condition":
			name, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("%s: want a condition name", at)
			}
			return r.condition(name)
		case "Fn::Equals":
			a, ok := arg.([]any)
			if !ok || len(a) != 2 {
				return false, fmt.Errorf("%s: want [a, b]", at)
			}
			x, err := r.resolve(a[0], at+"[0]")
			if err != nil {
				return false, err
			}
			y, err := r.resolve(a[1], at+"[1]")
			if err != nil {
				return false, err
			}
			xb, _ := json.Marshal(normalize(x))
			yb, _ := json.Marshal(normalize(y))
			return string(xb) == string(yb), nil
		case "Fn::Not":
			a, ok := arg.([]any)
			if !ok || len(a) != 1 {
				return false, fmt.Errorf("%s: want [condition]", at)
			}
			v, err := r.evalCondition(a[0], at+"[0]")
			return !v, err
		case "Fn::And", "Fn::Or":
			a, ok := arg.([]any)
			if !ok || len(a) == 0 {
				return false, fmt.Errorf("%s: want a list of conditions", at)
			}
			and := fn == "Fn::And"
			for i, e := range a {
				v, err := r.evalCondition(e, fmt.Sprintf("%s[%d]", at, i))
				if err != nil {
					return false, err
				}
				if v != and { // a false in And, a true in Or decides
					return v, nil
				}
			}
			return and, nil
		}
		return false, fmt.Errorf("%s: unsupported condition function", at)
	}
	return false, errors.New("unreachable")
}

// normalize turns scalars into strings, so "1" equals 1 and "true" equals true
// in Fn::Equals, as in CloudFormation.
func normalize(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		return x
	}
	s, err := scalar(v)
	if err != nil {
		return v
	}
	return s
}

// scalar renders a resolved scalar as a string.
func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	}
	return "", fmt.Errorf("want a string, got %s", describe(v))
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case noValueT:
		return "AWS::NoValue"
	case []any:
		return fmt.Sprintf("a list of %d", len(x))
	case map[string]any:
		return "an object with keys " + strings.Join(sortedKeys(x), ", ")
	}
	return fmt.Sprintf("%T %v", v, v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
