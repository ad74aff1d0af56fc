package web

import (
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
