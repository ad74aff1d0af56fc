package triggers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/kycgate/kycgate/shared/contract"
	"github.com/kycgate/kycgate/shared/kyc"
)

// Sweep takes the scheduled event of EventBridge Scheduler.
type Sweep struct {
	svc       *kyc.Sweeper
	namespace string
	sla       time.Duration
	metrics   io.Writer
	log       *slog.Logger
}

// NewSweep returns the sweep's handler. Its metrics (CloudWatch embedded
// metric format lines) go to metrics, the function's standard output in
// Lambda; the oldest pending review is reported against sla.
func NewSweep(s *kyc.Sweeper, namespace string, sla time.Duration, metrics io.Writer, log *slog.Logger) *Sweep {
	return &Sweep{svc: s, namespace: namespace, sla: sla, metrics: metrics, log: log}
}

// Handle runs one sweep. "Now" is the scheduled event's time, never the clock.
func (s *Sweep) Handle(ctx context.Context, e events.EventBridgeEvent) (kyc.SweepReport, error) {
	if e.Time.IsZero() {
		return kyc.SweepReport{}, kyc.Invalid("missing_time", "the scheduled event has no time")
	}
	rep, err := s.svc.Sweep(ctx, e.Time)
	s.emit(rep)
	s.log.InfoContext(ctx, "sweep", "now", rep.Now, "due", rep.CustomersDue, "changed", rep.Changed,
		"suspended", rep.Suspended, "awaitingReview", rep.AwaitingReview, "failed", rep.Failed,
		"oldestPendingReview", rep.OldestPendingReview.String(), "overSLA", rep.OldestPendingReview > s.sla)
	return rep, err
}

// emit writes the sweep's metrics in CloudWatch embedded metric format: a log
// line CloudWatch turns into metrics, so the sweep makes no metrics API call.
func (s *Sweep) emit(rep kyc.SweepReport) {
	if s.metrics == nil {
		return
	}
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": rep.Now.UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  s.namespace,
				"Dimensions": [][]string{{}},
				"Metrics": []any{
					map[string]string{"Name": contract.MetricOldestPendingReview, "Unit": "Seconds"},
					map[string]string{"Name": "HoldsSuspended", "Unit": "Count"},
					map[string]string{"Name": "SweepFailures", "Unit": "Count"},
				},
			}},
		},
		contract.MetricOldestPendingReview: int64(rep.OldestPendingReview / time.Second),
		"HoldsSuspended":                   rep.Suspended,
		"SweepFailures":                    rep.Failed,
	}
	b, _ := json.Marshal(line)
	fmt.Fprintln(s.metrics, string(b))
}
