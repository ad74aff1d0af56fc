// Command sweep applies the rules that time triggers, run by EventBridge
// Scheduler every five minutes with the scheduled time as "now".
// What it needs (environment, grants, trigger) is its contract.Spec;
// shared/wiring builds it (docs/architecture.md).
package main

import "github.com/kycgate/kycgate/shared/wiring"

func main() { wiring.Main(wiring.Sweep) }
