package bench

import (
	"context"
	"math"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/smithy-go/middleware"

	"github.com/kycgate/kycgate/shared/contract"
)

// Capacity is what a run of calls consumed that AWS bills by size or count
// rather than by call: DynamoDB request units, as on-demand billing counts
// them from the items' sizes, and EventBridge events.
type Capacity struct {
	// RRU are read request units: a strongly consistent read of up to 4 KB
	// is 1, an eventually consistent one (every GSI query) 0.5; a Query is
	// billed on the total size it returns, a GetItem of nothing still costs
	// its minimum.
	RRU float64 `json:"rru"`
	// WRU are write request units: 1 per KB written, 2 per KB inside a
	// transaction, plus the writes of each GSI whose entry the write adds,
	// changes (2: delete and put) or removes.
	WRU float64 `json:"wru"`
	// ItemsRead are the items GetItem and Query returned (Query: its Count;
	// DynamoDB reads no item it does not return for the store's key
	// conditions, which use no filter).
	ItemsRead int `json:"itemsRead"`
	// ItemsWritten are the items put, updated or deleted.
	ItemsWritten int `json:"itemsWritten"`
	// Events are the EventBridge entries published.
	Events int `json:"events"`
}

// Add returns the sum of two capacities.
func (c Capacity) Add(o Capacity) Capacity {
	return Capacity{RRU: c.RRU + o.RRU, WRU: c.WRU + o.WRU, ItemsRead: c.ItemsRead + o.ItemsRead,
		ItemsWritten: c.ItemsWritten + o.ItemsWritten, Events: c.Events + o.Events}
}

// Meter is SDK middleware that estimates, call by call, the capacity a
// DynamoDB or EventBridge client consumes. It learns item sizes and index
// entries from the writes it sees, so a later delete or overwrite of an item
// written through a metered client is priced by its real size; an item it
// never saw is assumed to be as large as the new one (or 1 KB). Safe for
// concurrent use.
type Meter struct {
	mu    sync.Mutex
	total Capacity
	known map[string]itemInfo // by table/pk/sk
}

type itemInfo struct {
	size    int
	indexed map[string]string // index name → its sort key value
}

// NewMeter returns a meter at zero.
func NewMeter() *Meter { return &Meter{known: map[string]itemInfo{}} }

// Total returns the capacity consumed since the last Reset.
func (m *Meter) Total() Capacity {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}

// Reset sets the total back to zero (the sizes it learnt are kept).
func (m *Meter) Reset() {
	m.mu.Lock()
	m.total = Capacity{}
	m.mu.Unlock()
}

// Option is the meter as an SDK API option (aws.Config.APIOptions).
func (m *Meter) Option() func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		if _, presign := s.Initialize.Get("AsIsPresigningMiddleware"); presign {
			return nil
		}
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("bench.meter", m.handle), middleware.After)
	}
}

func (m *Meter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleInitialize(ctx, in)
	if err != nil {
		// A failed conditional write still consumes its write units.
		m.failed(in.Parameters)
		return out, md, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch p := in.Parameters.(type) {
	case *dynamodb.GetItemInput:
		o, _ := out.Result.(*dynamodb.GetItemOutput)
		size := 0
		if o != nil && o.Item != nil {
			size = ItemSize(o.Item)
			m.total.ItemsRead++
		}
		m.total.RRU += readUnits(size, p.ConsistentRead != nil && *p.ConsistentRead)
	case *dynamodb.QueryInput:
		o, _ := out.Result.(*dynamodb.QueryOutput)
		size := 0
		if o != nil {
			for _, it := range o.Items {
				size += ItemSize(it)
			}
			m.total.ItemsRead += int(o.Count)
		}
		consistent := p.IndexName == nil && p.ConsistentRead != nil && *p.ConsistentRead
		m.total.RRU += readUnits(size, consistent)
	case *dynamodb.PutItemInput:
		m.total.WRU += m.put(*p.TableName, p.Item, 1)
		m.total.ItemsWritten++
	case *dynamodb.TransactWriteItemsInput:
		for _, t := range p.TransactItems {
			switch {
			case t.Put != nil:
				m.total.WRU += m.put(*t.Put.TableName, t.Put.Item, 2)
			case t.Delete != nil:
				m.total.WRU += m.remove(*t.Delete.TableName, t.Delete.Key, 2)
			case t.Update != nil:
				m.total.WRU += 2 * float64(m.sizeOf(*t.Update.TableName, t.Update.Key))
			case t.ConditionCheck != nil:
				m.total.RRU += 2
			}
			m.total.ItemsWritten++
		}
	case *dynamodb.UpdateItemInput:
		m.total.WRU += float64(m.sizeOf(*p.TableName, p.Key))
		m.total.ItemsWritten++
	case *dynamodb.DeleteItemInput:
		m.total.WRU += m.remove(*p.TableName, p.Key, 1)
		m.total.ItemsWritten++
	case *dynamodb.BatchWriteItemInput:
		for table, reqs := range p.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					m.total.WRU += m.put(table, r.PutRequest.Item, 1)
				} else if r.DeleteRequest != nil {
					m.total.WRU += m.remove(table, r.DeleteRequest.Key, 1)
				}
				m.total.ItemsWritten++
			}
		}
	case *eventbridge.PutEventsInput:
		for _, e := range p.Entries {
			// An event is billed per 64 KB chunk of its payload.
			n := len(strPtr(e.Detail)) + len(strPtr(e.DetailType)) + len(strPtr(e.Source))
			m.total.Events += max(1, (n+64<<10-1)/(64<<10))
		}
	}
	return out, md, err
}

// failed charges a write that failed its condition: DynamoDB still consumes
// the write units of the item it checked (approximated by the new item).
func (m *Meter) failed(params any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch p := params.(type) {
	case *dynamodb.PutItemInput:
		m.total.WRU += kb(ItemSize(p.Item))
	case *dynamodb.TransactWriteItemsInput:
		for _, t := range p.TransactItems {
			if t.Put != nil {
				m.total.WRU += 2 * kb(ItemSize(t.Put.Item))
			}
		}
	case *dynamodb.UpdateItemInput:
		m.total.WRU++
	}
}

func strPtr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// indexes are the table's GSIs and their key attributes (docs/architecture.md).
var indexes = []struct{ name, pk, sk string }{
	{contract.IndexDue, contract.AttrDuePK, contract.AttrDueSK},
	{contract.IndexQueue, contract.AttrQPK, contract.AttrQSK},
}

func itemKey(table string, key map[string]types.AttributeValue) string {
	return table + "/" + attrString(key[contract.AttrPK]) + "/" + attrString(key[contract.AttrSK])
}

func attrString(v types.AttributeValue) string {
	switch a := v.(type) {
	case *types.AttributeValueMemberS:
		return a.Value
	case *types.AttributeValueMemberN:
		return a.Value
	}
	return ""
}

// put prices writing item (factor 2 in a transaction) and remembers it.
func (m *Meter) put(table string, item map[string]types.AttributeValue, factor float64) float64 {
	k := itemKey(table, item)
	old, seen := m.known[k]
	size := ItemSize(item)
	billed := size
	if seen && old.size > billed {
		billed = old.size // an overwrite is billed on the larger of the two
	}
	units := factor * kb(billed)
	now := itemInfo{size: size, indexed: map[string]string{}}
	for _, ix := range indexes {
		_, hasPK := item[ix.pk]
		sk, hasSK := item[ix.sk]
		before, was := old.indexed[ix.name]
		switch {
		case hasPK && hasSK:
			now.indexed[ix.name] = attrString(sk)
			if was && before != attrString(sk) {
				units += 2 * kb(size) // the index entry moves: a delete and a put
			} else {
				units += kb(size)
			}
		case was:
			units += kb(old.size) // the entry leaves the index
		}
	}
	m.known[k] = now
	return units
}

// remove prices deleting an item (factor 2 in a transaction).
func (m *Meter) remove(table string, key map[string]types.AttributeValue, factor float64) float64 {
	k := itemKey(table, key)
	old, seen := m.known[k]
	if !seen {
		return factor
	}
	units := factor * kb(old.size)
	for range old.indexed {
		units += kb(old.size)
	}
	delete(m.known, k)
	return units
}

// sizeOf is the write units of an item updated in place (its known size).
func (m *Meter) sizeOf(table string, key map[string]types.AttributeValue) int {
	if old, ok := m.known[itemKey(table, key)]; ok {
		return int(kb(old.size))
	}
	return 1
}

func kb(size int) float64 { return math.Max(1, math.Ceil(float64(size)/1024)) }

func readUnits(size int, consistent bool) float64 {
	units := math.Max(1, math.Ceil(float64(size)/4096))
	if !consistent {
		units /= 2
	}
	return units
}

// ItemSize is an item's size as DynamoDB counts it: the UTF-8 lengths of the
// attribute names and values (numbers: about one byte per two digits, plus
// one).
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch a := v.(type) {
	case *types.AttributeValueMemberS:
		return len(a.Value)
	case *types.AttributeValueMemberN:
		return (len(strings.TrimLeft(a.Value, "-0"))+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(a.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range a.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range a.Value {
			n += (len(s)+1)/2 + 1
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range a.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range a.Value {
			n += len(k) + valueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range a.Value {
			n += valueSize(e) + 1
		}
		return n
	}
	return 0
}
