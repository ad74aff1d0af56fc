package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// nameRule is what one service accepts as a resource name.
type nameRule struct {
	max   int
	lower bool            // fold to lowercase (S3)
	ok    func(rune) bool // allowed characters; others become '-'
}

func alnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func allow(extra string) func(rune) bool {
	return func(r rune) bool { return alnum(r) || strings.ContainsRune(extra, r) }
}

// Limits per service (the AWS documentation of each name).
var (
	nameBucket    = nameRule{max: 63, lower: true, ok: allow("-")}
	nameQueue     = nameRule{max: 80, ok: allow("-_")}
	nameTable     = nameRule{max: 255, ok: allow("-_.")}
	nameBus       = nameRule{max: 256, ok: allow("-_.")}
	nameEventRule = nameRule{max: 64, ok: allow("-_.")}
	nameSecret    = nameRule{max: 256, ok: allow("-_/+=.@")}
	nameTopic     = nameRule{max: 256, ok: allow("-_")}
	nameFunction  = nameRule{max: 64, ok: allow("-_")}
	nameAlias     = nameRule{max: 250, ok: allow("-_/")}
)

// physicalName derives a deterministic name from the stack prefix and a
// logical id (or a name from the template), within the service's rule. A name
// too long is cut and ends in a hash of the whole, so two long names that
// share their beginning still differ. suffix (".fifo") is kept at the end.
func physicalName(rule nameRule, prefix, id, suffix string) string {
	full := prefix + "-" + id
	var b strings.Builder
	dash := false
	for _, r := range full {
		if rule.lower && r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if !rule.ok(r) {
			r = '-'
		}
		if r == '-' {
			if dash || b.Len() == 0 {
				continue
			}
			dash = true
		} else {
			dash = false
		}
		b.WriteRune(r)
	}
	name := strings.TrimRight(b.String(), "-")
	max := rule.max - len(suffix)
	if len(name) > max {
		sum := sha256.Sum256([]byte(full))
		h := hex.EncodeToString(sum[:4])
		name = strings.TrimRight(name[:max-len(h)-1], "-") + "-" + h
	}
	return name + suffix
}
