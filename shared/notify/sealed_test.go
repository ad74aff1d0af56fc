package notify_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kycgate/kycgate/shared/kyc"
)

// TestSealedMessageIsOpenedToSend: a KycRejected event carries the
// reviewer's message sealed with the customer's key (it is never published
// in clear); the notifier opens it for the e-mail, and keeps it out of the
// logs.
func TestSealedMessageIsOpenedToSend(t *testing.T) {
	r := newNotifyRig(t, rigOpts{})
	e := rejected()
	const msg = "Please upload a clearer scan, 陳大文."
	sealed, _ := sealer{}.Seal(context.Background(), "1001", []byte(msg))
	e.CustomerMessage, e.SealedMessage = "", &sealed
	if strings.Contains(envelope(t, e), "clearer scan") {
		t.Fatal("the event carries the message in clear")
	}
	if failed := r.deliver(t, e); len(failed) != 0 {
		t.Fatalf("failed %v\n%s", failed, r.logs)
	}
	if r.ses.count() != 1 || !strings.Contains(*r.ses.sent[0].Content.Simple.Body.Text.Data, msg) {
		t.Fatalf("the e-mail lacks the opened message")
	}
	r.noPersonalData(t)
}

func TestSealedMessageFailures(t *testing.T) {
	t.Run("a message sealed for another customer is retried, not sent", func(t *testing.T) {
		r := newNotifyRig(t, rigOpts{})
		e := rejected()
		sealed, _ := sealer{}.Seal(context.Background(), "1002", []byte("someone else's words"))
		e.CustomerMessage, e.SealedMessage = "", &sealed
		if failed := r.deliver(t, e); len(failed) != 1 || r.ses.count() != 0 {
			t.Fatalf("failed %v, %d e-mails; want a retry and nothing sent", failed, r.ses.count())
		}
	})
	t.Run("a shredded key: the notice goes without the message", func(t *testing.T) {
		r := newNotifyRig(t, rigOpts{sealer: shreddedMessages{}})
		e := rejected()
		e.CustomerMessage, e.SealedMessage = "", &kyc.Sealed{V: 1, Nonce: []byte("1001"), Data: []byte("x")}
		if failed := r.deliver(t, e); len(failed) != 0 || r.ses.count() != 1 {
			t.Fatalf("failed %v, %d e-mails", failed, r.ses.count())
		}
	})
}

// shreddedMessages opens the contact address but not the message: the key
// that sealed it is gone.
type shreddedMessages struct{ sealer }

func (s shreddedMessages) Open(ctx context.Context, id string, v kyc.Sealed) ([]byte, error) {
	if string(v.Data) == "x" {
		return nil, kyc.ErrShredded
	}
	return s.sealer.Open(ctx, id, v)
}
