package view

import (
	"fyne.io/fyne/v2/lang"

	"github.com/mesi/mconnect/app/domain"
)

// Texts of the Dashboard's tabs; see strings.go.

func txtTabWorklist() string    { return lang.X("tab.worklist", "Worklist") }
func txtTabTablets() string     { return lang.X("tab.tablets", "Tablets") }
func txtTabConnections() string { return lang.X("tab.connections", "Connections") }

func txtDetails() string { return lang.X("common.details", "Details") }
func txtCancel() string  { return lang.X("common.cancel", "Cancel") }

func txtNoHub() string {
	return lang.X("common.noHub", "The hub is not running, so there is nothing to show here yet.")
}
func txtHubNoAnswer() string {
	return lang.X("common.hubNoAnswer", "The hub did not answer. Try again; if this repeats, export diagnostics for support.")
}

func txtSearchPlaceholder() string {
	return lang.X("worklist.search", "Search by name, patient ID or order number")
}
func txtAllGroups() string { return lang.X("worklist.allGroups", "All groups") }

func txtStateFilter(s string) string {
	switch s {
	case stateFilterOpen:
		return lang.X("worklist.filter.open", "On the worklist")
	case stateFilterAll:
		return lang.X("worklist.filter.all", "Every state")
	default:
		return txtOrderState(domain.OrderState(s))
	}
}

func txtOrderState(s domain.OrderState) string {
	switch s {
	case domain.OrderScheduled:
		return lang.X("order.state.scheduled", "Scheduled")
	case domain.OrderInProgress:
		return lang.X("order.state.inProgress", "Measuring")
	case domain.OrderDone:
		return lang.X("order.state.done", "Done")
	case domain.OrderCancelled:
		return lang.X("order.state.cancelled", "Cancelled by the EHR")
	case domain.OrderDeleted:
		return lang.X("order.state.deleted", "Deleted")
	default:
		return string(s)
	}
}

func txtOrderCount(n int) string {
	return lang.XN("worklist.count", "{{.Count}} appointments", n, map[string]any{"Count": n})
}
func txtOrderCountCapped(n int) string {
	return lang.X("worklist.countCapped", "Showing the newest {{.Count}} appointments; search to find older ones",
		map[string]any{"Count": n})
}
func txtNoOrders() string {
	return lang.X("worklist.none", "No appointments on the worklist.")
}
func txtNoOrdersMatch() string {
	return lang.X("worklist.noneMatch", "No appointments match the search and filters.")
}
func txtSelectOrder() string {
	return lang.X("worklist.select", "Select an appointment to see every field the EHR sent.")
}
func txtUnnamed() string { return lang.X("worklist.unnamed", "(no name)") }

func txtSectionPatient() string  { return lang.X("order.section.patient", "Patient") }
func txtSectionVisit() string    { return lang.X("order.section.visit", "Visit") }
func txtSectionProvider() string { return lang.X("order.section.provider", "Provider") }
func txtSectionOrder() string    { return lang.X("order.section.order", "Order") }
func txtSectionOther() string    { return lang.X("order.section.other", "Other fields from the EHR") }
func txtShowRaw() string {
	return lang.X("order.showRaw", "Show the values exactly as received")
}
func txtEmptyValue() string { return lang.X("order.emptyValue", "(empty)") }

func txtPatientID() string      { return lang.X("order.patientId", "Patient ID") }
func txtBirthDate() string      { return lang.X("order.birthDate", "Date of birth") }
func txtOrderNumber() string    { return lang.X("order.number", "Order number") }
func txtMeasurement() string    { return lang.X("order.measurement", "Measurement") }
func txtScheduled() string      { return lang.X("order.scheduled", "Scheduled for") }
func txtReceived() string       { return lang.X("order.received", "Received") }
func txtGroup() string          { return lang.X("order.group", "Group") }
func txtState() string          { return lang.X("order.state", "State") }
func txtConnection() string     { return lang.X("order.connection", "Connection") }
func txtLocation() string       { return lang.X("order.location", "Location") }
func txtOrderingDoctor() string { return lang.X("order.orderingProvider", "Ordered by") }
func txtAttending() string      { return lang.X("order.attending", "Attending") }

func txtDelete() string { return lang.X("worklist.delete", "Delete appointment…") }
func txtDeleteTitle() string {
	return lang.X("worklist.deleteTitle", "Delete this appointment?")
}
func txtDeleteText(name string) string {
	return lang.X("worklist.deleteText",
		"{{.Name}} is taken off the worklist of every tablet. The EHR is not told. Say why, for the audit log:",
		map[string]any{"Name": name})
}
func txtDeleteReason() string  { return lang.X("worklist.deleteReason", "Reason (required)") }
func txtDeleteConfirm() string { return lang.X("worklist.deleteConfirm", "Delete") }
func txtDeleted(name string) string {
	return lang.X("worklist.deleted", "{{.Name}} was deleted from the worklist.", map[string]any{"Name": name})
}

func txtPairTablet() string { return lang.X("tablets.pair", "Pair a tablet") }
func txtPairGroup() string  { return lang.X("tablets.pairGroup", "New tablets join") }
func txtNoTablets() string {
	return lang.X("tablets.none", "No tablets are paired yet. Press \"Pair a tablet\" and scan the code with the tablet's camera.")
}
func txtTabletCount(n int) string {
	return lang.XN("tablets.count", "{{.Count}} tablets", n, map[string]any{"Count": n})
}
func txtOnline() string  { return lang.X("tablets.online", "Online") }
func txtOffline() string { return lang.X("tablets.offline", "Offline") }
func txtRevoked() string { return lang.X("tablets.revoked", "Revoked") }
func txtBattery(p int) string {
	return lang.X("tablets.battery", "Battery {{.Percent}}%", map[string]any{"Percent": p})
}
func txtBatteryUnknown() string { return lang.X("tablets.batteryUnknown", "Battery unknown") }
func txtAppVersion(v string) string {
	return lang.X("tablets.appVersion", "App {{.Version}}", map[string]any{"Version": v})
}
func txtLastSeen(at string) string {
	return lang.X("tablets.lastSeen", "Last seen {{.Time}}", map[string]any{"Time": at})
}
func txtSelectTablet() string {
	return lang.X("tablets.select", "Select a tablet to rename it, move it to another group or revoke it.")
}
func txtTabletName() string { return lang.X("tablets.name", "Name") }
func txtRename() string     { return lang.X("tablets.rename", "Rename") }
func txtMove() string       { return lang.X("tablets.move", "Move to group") }
func txtRevoke() string     { return lang.X("tablets.revoke", "Revoke…") }
func txtRevokeTitle() string {
	return lang.X("tablets.revokeTitle", "Revoke this tablet?")
}
func txtRevokeText(name string) string {
	return lang.X("tablets.revokeText",
		"{{.Name}} can no longer reach the hub from its next call. To use it again, pair it anew.",
		map[string]any{"Name": name})
}
func txtRevokeConfirm() string { return lang.X("tablets.revokeConfirm", "Revoke") }
func txtTabletSaved(name string) string {
	return lang.X("tablets.saved", "{{.Name}} was changed.", map[string]any{"Name": name})
}
func txtPairTitle() string { return lang.X("tablets.pairTitle", "Pair a tablet") }
func txtPairText() string {
	return lang.X("tablets.pairText",
		"On the tablet, open mTABLET, choose to connect to a hub and scan this code, or type the 6-digit code.")
}
func txtPairExpires(left string) string {
	return lang.X("tablets.pairExpires", "The code works for {{.Left}} more.", map[string]any{"Left": left})
}
func txtPairExpired() string {
	return lang.X("tablets.pairExpired", "The code has expired. Press \"New code\" for another one.")
}
func txtPairNew() string   { return lang.X("tablets.pairNew", "New code") }
func txtPairClose() string { return lang.X("tablets.pairClose", "Done") }
func txtPairQRFailed() string {
	return lang.X("tablets.pairQRFailed", "The QR code could not be drawn; type the 6-digit code on the tablet.")
}

func txtTestConnection() string { return lang.X("connections.test", "Test connection") }
func txtOpenFolder() string     { return lang.X("connections.openFolder", "Open folder") }
func txtEndpointFolder() string { return lang.X("connections.endpointFolder", "Folder:") }
func txtEndpointListen() string { return lang.X("connections.endpointListen", "Listens on:") }
func txtEndpointRemote() string { return lang.X("connections.endpointRemote", "Sends to:") }

func txtDayFilter(d string) string {
	switch d {
	case dayToday:
		return lang.X("worklist.day.today", "Today")
	case dayTomorrow:
		return lang.X("worklist.day.tomorrow", "Tomorrow")
	case dayYesterday:
		return lang.X("worklist.day.yesterday", "Yesterday")
	case dayNext7:
		return lang.X("worklist.day.next7", "Next 7 days")
	case dayPast7:
		return lang.X("worklist.day.past7", "Past 7 days")
	default:
		return lang.X("worklist.day.any", "Any day")
	}
}

func txtTabSettings() string { return lang.X("tab.settings", "Settings") }
