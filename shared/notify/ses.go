package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

// SESAPI is the part of the SES v2 client the mailer uses.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends notices with SES v2 SendEmail: simple content with a text and an
// HTML part, UTF-8, from the stack's sender identity.
type SES struct {
	api     SESAPI
	from    string
	replyTo []string
}

var _ Mailer = (*SES)(nil)

// NewSES returns a mailer sending from a verified SES identity (a bare
// address), with an optional Reply-To.
func NewSES(api SESAPI, from, replyTo string) (*SES, error) {
	if a, err := mail.ParseAddress(from); err != nil || a.Address != from {
		return nil, fmt.Errorf("notify: sender %q must be a bare e-mail address", from)
	}
	s := &SES{api: api, from: from}
	if replyTo != "" {
		if a, err := mail.ParseAddress(replyTo); err != nil || a.Address != replyTo {
			return nil, fmt.Errorf("notify: reply-to %q must be a bare e-mail address", replyTo)
		}
		s.replyTo = []string{replyTo}
	}
	return s, nil
}

// Send implements Mailer. Its errors carry SES's error code only: SES
// messages can quote the recipient's address.
func (s *SES) Send(ctx context.Context, to string, m Message) (string, error) {
	utf8 := aws.String("UTF-8")
	out, err := s.api.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: &s.from,
		ReplyToAddresses: s.replyTo,
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: utf8},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(m.Text), Charset: utf8},
				Html: &types.Content{Data: aws.String(m.HTML), Charset: utf8},
			},
		}},
	})
	if err != nil {
		return "", &SendError{Code: errorCode(err)}
	}
	return aws.ToString(out.MessageId), nil
}

// SendError is a failed SendEmail, by SES error code.
type SendError struct{ Code string }

func (e *SendError) Error() string { return "ses SendEmail: " + e.Code }

// Transient: throttling, sending quota, timeouts and transport errors.
func (e *SendError) Transient() bool {
	switch e.Code {
	case "TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException",
		"InternalFailure", "ServiceUnavailable", "timeout", "canceled", "transport_error", "connection_refused":
		return true
	}
	return false
}

// Uncertain: SES may have accepted the message although the call failed.
func (e *SendError) Uncertain() bool {
	return e.Code == "timeout" || e.Code == "canceled" || e.Code == "transport_error"
}

// KindName is the SES error code.
func (e *SendError) KindName() string { return "ses_" + e.Code }

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	// A transport error: keep its kind, not its text.
	if s := err.Error(); strings.Contains(s, "connection refused") {
		return "connection_refused"
	}
	return "transport_error"
}
