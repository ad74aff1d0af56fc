package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
)

// model is an in-process model of one DynamoDB table, for the calls the store
// makes (dynamostore.API), with DynamoDB's costs: an item is found by its key
// and an index query starts at its key condition's first entry, however many
// items the table holds. The emulator cannot time the sweep over 100,000
// holds: moto evaluates every Query by sorting the whole table, and copies
// the whole table on every item of every TransactWriteItems. The sweep
// benchmark checks that this model and moto do the same sweep of the same
// 1,000 holds (same calls, items read and outcome) before it trusts the
// model's timings at 100,000.
//
// What it models: GetItem; PutItem and DeleteItem with conditions;
// TransactWriteItems of Puts and Deletes (all conditions checked, then all
// applied, or a TransactionCanceledException with the reasons); Query of a
// partition (optionally begins_with on the sort key) and of a GSI (with a
// sort key bound, Limit, ascending). Conditions: attribute_exists,
// attribute_not_exists and comparisons, joined by AND or OR. Anything else
// is an error, so a change of the store's calls cannot be silently mis-modelled.
type model struct {
	mu      sync.Mutex
	parts   map[string]map[string]map[string]types.AttributeValue // pk → sk → item
	indexes map[string]*treap                                     // GSI name → entries
	undo    map[string]map[string]types.AttributeValue            // while tracking: key → item before (nil: absent)
}

var _ dynamostore.API = (*model)(nil)

func newModel() *model {
	m := &model{parts: map[string]map[string]map[string]types.AttributeValue{}, indexes: map[string]*treap{}}
	for _, ix := range indexes {
		m.indexes[ix.name] = &treap{}
	}
	return m
}

// track starts recording what each write replaces; rollback undoes every
// write since, so a benchmark can run the same sweep again.
func (m *model) track() {
	m.mu.Lock()
	m.undo = map[string]map[string]types.AttributeValue{}
	m.mu.Unlock()
}

func (m *model) rollback() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, before := range m.undo {
		pk, sk, _ := strings.Cut(k, "\x00")
		if before == nil {
			m.remove(pk, sk)
		} else {
			m.write(before)
		}
	}
	m.undo = nil
}

// load writes items without conditions (seeding).
func (m *model) load(items []map[string]types.AttributeValue) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range items {
		m.write(it)
	}
}

func (m *model) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.parts {
		n += len(p)
	}
	return n
}

func keyOf(it map[string]types.AttributeValue) (string, string) {
	return attrString(it[contract.AttrPK]), attrString(it[contract.AttrSK])
}

func (m *model) get(pk, sk string) map[string]types.AttributeValue { return m.parts[pk][sk] }

func entryKey(ipk, isk, pk, sk string) string {
	return ipk + "\x00" + isk + "\x00" + pk + "\x00" + sk
}

func (m *model) remember(pk, sk string) {
	if m.undo == nil {
		return
	}
	k := pk + "\x00" + sk
	if _, ok := m.undo[k]; !ok {
		m.undo[k] = m.get(pk, sk)
	}
}

func (m *model) write(it map[string]types.AttributeValue) {
	pk, sk := keyOf(it)
	m.remember(pk, sk)
	m.unindex(pk, sk)
	if m.parts[pk] == nil {
		m.parts[pk] = map[string]map[string]types.AttributeValue{}
	}
	m.parts[pk][sk] = it
	for _, ix := range indexes {
		ipk, ok1 := it[ix.pk].(*types.AttributeValueMemberS)
		isk, ok2 := it[ix.sk].(*types.AttributeValueMemberS)
		if ok1 && ok2 {
			m.indexes[ix.name].insert(entryKey(ipk.Value, isk.Value, pk, sk))
		}
	}
}

func (m *model) remove(pk, sk string) {
	m.remember(pk, sk)
	m.unindex(pk, sk)
	delete(m.parts[pk], sk)
	if len(m.parts[pk]) == 0 {
		delete(m.parts, pk)
	}
}

func (m *model) unindex(pk, sk string) {
	old := m.get(pk, sk)
	if old == nil {
		return
	}
	for _, ix := range indexes {
		ipk, ok1 := old[ix.pk].(*types.AttributeValueMemberS)
		isk, ok2 := old[ix.sk].(*types.AttributeValueMemberS)
		if ok1 && ok2 {
			m.indexes[ix.name].delete(entryKey(ipk.Value, isk.Value, pk, sk))
		}
	}
}

func (m *model) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pk, sk := keyOf(in.Key)
	return &dynamodb.GetItemOutput{Item: maps.Clone(m.get(pk, sk))}, nil
}

func (m *model) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pk, sk := keyOf(in.Item)
	ok, err := holds(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, m.get(pk, sk))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	m.write(maps.Clone(in.Item))
	return &dynamodb.PutItemOutput{}, nil
}

func (m *model) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pk, sk := keyOf(in.Key)
	ok, err := holds(in.ConditionExpression, in.ExpressionAttributeNames, in.ExpressionAttributeValues, m.get(pk, sk))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	m.remove(pk, sk)
	return &dynamodb.DeleteItemOutput{}, nil
}

func (m *model) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errors.New("model: UpdateItem is not modelled")
}

func (m *model) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(in.TransactItems) > dynamostore.MaxTransactItems {
		return nil, errors.New("model: more than 100 items in a transaction")
	}
	reasons := make([]types.CancellationReason, len(in.TransactItems))
	failed := false
	for i, t := range in.TransactItems {
		var (
			key      map[string]types.AttributeValue
			cond     *string
			names    map[string]string
			vals     map[string]types.AttributeValue
			supports = true
		)
		switch {
		case t.Put != nil:
			key, cond, names, vals = t.Put.Item, t.Put.ConditionExpression, t.Put.ExpressionAttributeNames, t.Put.ExpressionAttributeValues
		case t.Delete != nil:
			key, cond, names, vals = t.Delete.Key, t.Delete.ConditionExpression, t.Delete.ExpressionAttributeNames, t.Delete.ExpressionAttributeValues
		default:
			supports = false
		}
		if !supports {
			return nil, errors.New("model: only Put and Delete are modelled in transactions")
		}
		pk, sk := keyOf(key)
		ok, err := holds(cond, names, vals, m.get(pk, sk))
		if err != nil {
			return nil, err
		}
		reasons[i].Code = aws.String("None")
		if !ok {
			reasons[i].Code = aws.String("ConditionalCheckFailed")
			failed = true
		}
	}
	if failed {
		return nil, &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
	}
	for _, t := range in.TransactItems {
		if t.Put != nil {
			m.write(maps.Clone(t.Put.Item))
		} else {
			pk, sk := keyOf(t.Delete.Key)
			m.remove(pk, sk)
		}
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func (m *model) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if in.ScanIndexForward != nil && !*in.ScanIndexForward {
		return nil, errors.New("model: descending queries are not modelled")
	}
	if in.FilterExpression != nil || in.ExclusiveStartKey != nil {
		return nil, errors.New("model: filters and pages are not modelled")
	}
	kc, err := parseKeyCondition(aws.ToString(in.KeyConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	if err != nil {
		return nil, err
	}
	limit := int(aws.ToInt32(in.Limit))
	out := &dynamodb.QueryOutput{}
	add := func(it map[string]types.AttributeValue) bool {
		if limit > 0 && len(out.Items) == limit {
			last := out.Items[len(out.Items)-1]
			out.LastEvaluatedKey = map[string]types.AttributeValue{contract.AttrPK: last[contract.AttrPK], contract.AttrSK: last[contract.AttrSK]}
			return false
		}
		out.Items = append(out.Items, maps.Clone(it))
		return true
	}
	if in.IndexName == nil {
		part := m.parts[kc.pkValue]
		sks := make([]string, 0, len(part))
		for sk := range part {
			if kc.matches(sk) {
				sks = append(sks, sk)
			}
		}
		sortStrings(sks)
		for _, sk := range sks {
			if !add(part[sk]) {
				break
			}
		}
	} else {
		ix, ok := m.indexes[*in.IndexName]
		if !ok {
			return nil, fmt.Errorf("model: no index %s", *in.IndexName)
		}
		prefix := kc.pkValue + "\x00"
		from := prefix
		if kc.op != "<" && kc.op != "<=" {
			from += kc.skValue
		}
		ix.ascend(from, func(e string) bool {
			if !strings.HasPrefix(e, prefix) {
				return false
			}
			parts := strings.SplitN(e, "\x00", 4)
			if !kc.matches(parts[1]) {
				return kc.op == ">" // past a > bound's equal entries; any other bound is passed for good
			}
			return add(m.get(parts[2], parts[3]))
		})
	}
	out.Count = int32(len(out.Items))
	out.ScannedCount = out.Count
	return out, nil
}

// keyCondition is "#pk = :v" with an optional sort key condition.
type keyCondition struct {
	pkValue string
	op      string // "", "begins_with", "<", "<=", ">", ">=", "="
	skValue string
}

func (k keyCondition) matches(sk string) bool {
	switch k.op {
	case "":
		return true
	case "begins_with":
		return strings.HasPrefix(sk, k.skValue)
	case "<":
		return sk < k.skValue
	case "<=":
		return sk <= k.skValue
	case ">":
		return sk > k.skValue
	case ">=":
		return sk >= k.skValue
	case "=":
		return sk == k.skValue
	}
	return false
}

func parseKeyCondition(expr string, names map[string]string, vals map[string]types.AttributeValue) (keyCondition, error) {
	var kc keyCondition
	parts := strings.Split(expr, " AND ")
	pk := strings.Fields(parts[0])
	if len(pk) != 3 || pk[1] != "=" {
		return kc, fmt.Errorf("model: key condition %q is not modelled", expr)
	}
	kc.pkValue = attrString(vals[pk[2]])
	switch len(parts) {
	case 1:
		return kc, nil
	case 2:
		sk := strings.TrimSpace(parts[1])
		if rest, ok := strings.CutPrefix(sk, "begins_with("); ok {
			args := strings.Split(strings.TrimSuffix(rest, ")"), ",")
			if len(args) != 2 {
				return kc, fmt.Errorf("model: key condition %q is not modelled", expr)
			}
			kc.op, kc.skValue = "begins_with", attrString(vals[strings.TrimSpace(args[1])])
			return kc, nil
		}
		f := strings.Fields(sk)
		if len(f) != 3 {
			return kc, fmt.Errorf("model: key condition %q is not modelled", expr)
		}
		kc.op, kc.skValue = f[1], attrString(vals[f[2]])
		return kc, nil
	}
	return kc, fmt.Errorf("model: key condition %q is not modelled", expr)
}

// holds evaluates a condition expression on an item (nil: absent).
func holds(expr *string, names map[string]string, vals map[string]types.AttributeValue, it map[string]types.AttributeValue) (bool, error) {
	if expr == nil || *expr == "" {
		return true, nil
	}
	for _, any := range strings.Split(*expr, " OR ") {
		all := true
		for _, atom := range strings.Split(any, " AND ") {
			ok, err := atomHolds(strings.TrimSpace(atom), names, vals, it)
			if err != nil {
				return false, err
			}
			all = all && ok
		}
		if all {
			return true, nil
		}
	}
	return false, nil
}

func atomHolds(atom string, names map[string]string, vals map[string]types.AttributeValue, it map[string]types.AttributeValue) (bool, error) {
	name := func(s string) string {
		if n, ok := names[s]; ok {
			return n
		}
		return s
	}
	for _, fn := range []string{"attribute_not_exists", "attribute_exists"} {
		if rest, ok := strings.CutPrefix(atom, fn+"("); ok {
			_, present := it[name(strings.TrimSuffix(rest, ")"))]
			return present == (fn == "attribute_exists"), nil
		}
	}
	f := strings.Fields(atom)
	if len(f) != 3 {
		return false, fmt.Errorf("model: condition %q is not modelled", atom)
	}
	left, ok := it[name(f[0])]
	right := vals[f[2]]
	if !ok || right == nil {
		return false, nil
	}
	c, err := compare(left, right)
	if err != nil {
		return false, err
	}
	switch f[1] {
	case "=":
		return c == 0, nil
	case "<>":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	case ">=":
		return c >= 0, nil
	}
	return false, fmt.Errorf("model: operator %q is not modelled", f[1])
}

func compare(a, b types.AttributeValue) (int, error) {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		if y, ok := b.(*types.AttributeValueMemberS); ok {
			return strings.Compare(x.Value, y.Value), nil
		}
	case *types.AttributeValueMemberN:
		if y, ok := b.(*types.AttributeValueMemberN); ok {
			fx, err1 := strconv.ParseFloat(x.Value, 64)
			fy, err2 := strconv.ParseFloat(y.Value, 64)
			if err1 != nil || err2 != nil {
				return 0, errors.New("model: bad number")
			}
			switch {
			case fx < fy:
				return -1, nil
			case fx > fy:
				return 1, nil
			}
			return 0, nil
		}
	}
	return 0, fmt.Errorf("model: cannot compare %T with %T", a, b)
}

func sortStrings(s []string) {
	// insertion sort is fine for a partition's handful of items
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// treap is an ordered set of strings: O(log n) insert, delete and seek.
type treap struct{ root *tnode }

type tnode struct {
	key         string
	pri         uint64
	left, right *tnode
}

func (t *treap) insert(k string) {
	t.root = tinsert(tdelete(t.root, k), &tnode{key: k, pri: rand.Uint64()})
}
func (t *treap) delete(k string) { t.root = tdelete(t.root, k) }

// ascend calls fn on every key ≥ from in order until fn returns false.
func (t *treap) ascend(from string, fn func(string) bool) { tascend(t.root, from, fn) }

func tsplit(n *tnode, k string) (l, r *tnode) { // l: keys < k, r: keys ≥ k
	if n == nil {
		return nil, nil
	}
	if n.key < k {
		n.right, r = tsplit(n.right, k)
		return n, r
	}
	l, n.left = tsplit(n.left, k)
	return l, n
}

func tmerge(l, r *tnode) *tnode {
	switch {
	case l == nil:
		return r
	case r == nil:
		return l
	case l.pri > r.pri:
		l.right = tmerge(l.right, r)
		return l
	}
	r.left = tmerge(l, r.left)
	return r
}

func tinsert(n, x *tnode) *tnode {
	if n == nil {
		return x
	}
	if x.pri > n.pri {
		x.left, x.right = tsplit(n, x.key)
		return x
	}
	if x.key < n.key {
		n.left = tinsert(n.left, x)
	} else if x.key > n.key {
		n.right = tinsert(n.right, x)
	}
	return n
}

func tdelete(n *tnode, k string) *tnode {
	if n == nil {
		return nil
	}
	switch {
	case k < n.key:
		n.left = tdelete(n.left, k)
	case k > n.key:
		n.right = tdelete(n.right, k)
	default:
		return tmerge(n.left, n.right)
	}
	return n
}

func tascend(n *tnode, from string, fn func(string) bool) bool {
	if n == nil {
		return true
	}
	if n.key >= from {
		if !tascend(n.left, from, fn) {
			return false
		}
		if !fn(n.key) {
			return false
		}
	}
	return tascend(n.right, from, fn)
}
