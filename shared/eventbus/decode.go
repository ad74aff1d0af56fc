package eventbus

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Decode reads an EventBridge event as delivered to SQS and returns
// its detail as a kyc.Event with Type set from detail-type. Only events of
// source "kyc" are accepted.
func Decode(body []byte) (kyc.Event, error) {
	var env events.EventBridgeEvent
	if err := json.Unmarshal(body, &env); err != nil {
		return kyc.Event{}, fmt.Errorf("body is not an EventBridge event: %w", err)
	}
	if env.Source != contract.SourceKYC {
		return kyc.Event{}, fmt.Errorf("source %q, want %q", env.Source, contract.SourceKYC)
	}
	if env.DetailType == "" || len(env.Detail) == 0 {
		return kyc.Event{}, errors.New("no detail-type or detail")
	}
	var e kyc.Event
	if err := json.Unmarshal(env.Detail, &e); err != nil {
		return kyc.Event{}, fmt.Errorf("detail is not a kyc event: %w", err)
	}
	e.Type = kyc.EventType(env.DetailType)
	return e, nil
}
