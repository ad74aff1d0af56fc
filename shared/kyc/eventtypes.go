package kyc

// EventType is the EventBridge detail-type of an event.
type EventType string

// Events from the billing system (source "billing"), consumed by billing-intake.
const (
	OrderPlaced    EventType = "OrderPlaced"
	OrderCancelled EventType = "OrderCancelled"
	ServiceExpired EventType = "ServiceExpired"
	// StaffAction reports what staff did by hand to a held service in the
	// billing system (a create, an unsuspend, a provisioning override): it is
	// recorded in the customer's audit trail and changes nothing else.
	StaffAction EventType = "StaffAction"
)

// Events this system emits (source "kyc").
const (
	KycRequested EventType = "KycRequested"
	KycVerified  EventType = "KycVerified"
	KycRejected  EventType = "KycRejected"
	KycExpiring  EventType = "KycExpiring"
	KycExpired   EventType = "KycExpired"

	ServiceProvisionRequested EventType = "ServiceProvisionRequested"
	ServiceSuspendRequested   EventType = "ServiceSuspendRequested"
	ServiceUnsuspendRequested EventType = "ServiceUnsuspendRequested"
	ServiceDueDateExtended    EventType = "ServiceDueDateExtended"
)

// BillingEvents are the detail-types billing-intake accepts.
var BillingEvents = []EventType{OrderPlaced, OrderCancelled, ServiceExpired, StaffAction}

// ServiceCommands are the events billing-adapter turns into billing-system calls.
var ServiceCommands = []EventType{
	ServiceProvisionRequested,
	ServiceSuspendRequested,
	ServiceUnsuspendRequested,
	ServiceDueDateExtended,
}

// CustomerNotices are the events notifier turns into customer messages.
var CustomerNotices = []EventType{KycRequested, KycVerified, KycRejected, KycExpiring, KycExpired}
