package systemtest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/golang-jwt/jwt/v5"

	"github.com/kycgate/kycgate/infra/local/emulator"
	"github.com/kycgate/kycgate/infra/local/stacktest"
	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/dynamostore"
	"github.com/kycgate/kycgate/shared/signin"
	"github.com/kycgate/kycgate/shared/signin/signintest"
)

// The sign-in replay guard on the deployed table: a token id is used once,
// even by racing requests; the item carries the TTL and nothing else
// personal; the Verifier on it refuses a replayed token.
func TestSigninGuard(t *testing.T) {
	emulator.Integration(t)
	st, cfg := stacktest.Deploy(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(cfg)
	table := st.Functions[contract.FunctionCustomerAPI].Env[contract.EnvTable]
	g := dynamostore.NewSigninGuard(db, table)
	until := time.Now().Add(2 * time.Minute).Truncate(time.Second)

	jti := signintest.JTI(t)
	if err := g.Use(ctx, jti, until); err != nil {
		t.Fatal(err)
	}
	if err := g.Use(ctx, jti, until); !errors.Is(err, signin.ErrReplayed) {
		t.Fatalf("second use: %v, want ErrReplayed", err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
		contract.AttrPK: &types.AttributeValueMemberS{Value: contract.PrefixSignin + jti}, contract.AttrSK: &types.AttributeValueMemberS{Value: contract.SKSignin}}})
	if err != nil || out.Item == nil {
		t.Fatalf("item: %v %v", out, err)
	}
	if ttl, ok := out.Item[contract.AttrTTL].(*types.AttributeValueMemberN); !ok || ttl.Value != strconv.FormatInt(until.Unix(), 10) {
		t.Errorf("ttl %v, want %d", out.Item[contract.AttrTTL], until.Unix())
	}
	if len(out.Item) != 3 {
		t.Errorf("the item holds %d attributes, want pk, sk and ttl only", len(out.Item))
	}

	// Racing uses of one id: exactly one wins.
	race := signintest.JTI(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, replayed := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := g.Use(ctx, race, until)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, signin.ErrReplayed):
				replayed++
			default:
				t.Errorf("use: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || replayed != 7 {
		t.Errorf("%d won, %d replayed; want 1 and 7", won, replayed)
	}

	// The Verifier on the table's guard.
	s := signintest.NewEd25519(t, "k1")
	v, err := signin.NewVerifier(signin.Config{Keys: []signin.Key{s.Key}, Issuer: "whmcs", Audience: "https://kyc.test/verify", Replay: g})
	if err != nil {
		t.Fatal(err)
	}
	tok := s.Sign(t, jwt.MapClaims{"iss": "whmcs", "aud": "https://kyc.test/verify", "sub": "1001", "iat": time.Now().Unix(),
		"exp": time.Now().Add(time.Minute).Unix(), "jti": signintest.JTI(t)}, nil)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, tok); signin.Reason(err) != signin.ReasonReplayed {
		t.Fatalf("replayed token: %v", err)
	}

	// A guard that cannot reach its table refuses (fail closed).
	broken := dynamostore.NewSigninGuard(db, "no-such-table")
	if err := broken.Use(ctx, signintest.JTI(t), until); err == nil || errors.Is(err, signin.ErrReplayed) {
		t.Fatalf("a guard without its table: %v", err)
	}
}
