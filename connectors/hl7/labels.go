package hl7

import "github.com/mesi/mconnect/app/domain"

func init() {
	domain.RegisterFieldLabels(func(key string) string { return labels[key] })
}

// labels names the fields a person sees in the Dashboard and on the tablet.
var labels = map[string]string{
	"MSH-3": "Sending application", "MSH-4": "Sending facility", "MSH-5": "Receiving application",
	"MSH-6": "Receiving facility", "MSH-7": "Message date/time", "MSH-9": "Message type",
	"MSH-10": "Message control ID", "MSH-11": "Processing ID", "MSH-12": "HL7 version",
	"MSH-18": "Character set",

	"PID-1": "Set ID", "PID-2": "Patient ID (external)", "PID-3": "Patient identifier list",
	"PID-4": "Alternate patient ID", "PID-5": "Patient name", "PID-6": "Mother's maiden name",
	"PID-7": "Date of birth", "PID-8": "Administrative sex", "PID-9": "Patient alias",
	"PID-10": "Race", "PID-11": "Patient address", "PID-12": "County code",
	"PID-13": "Phone (home) / e-mail", "PID-14": "Phone (business)", "PID-15": "Primary language",
	"PID-16": "Marital status", "PID-17": "Religion", "PID-18": "Patient account number",
	"PID-19": "Social security number", "PID-20": "Driver's licence", "PID-22": "Ethnic group",
	"PID-23": "Birth place", "PID-26": "Citizenship", "PID-28": "Nationality",
	"PID-29": "Death date/time", "PID-30": "Death indicator",

	"PV1-1": "Set ID", "PV1-2": "Patient class", "PV1-3": "Assigned location",
	"PV1-4": "Admission type", "PV1-5": "Pre-admit number", "PV1-6": "Prior location",
	"PV1-7": "Attending doctor", "PV1-8": "Referring doctor", "PV1-9": "Consulting doctor",
	"PV1-10": "Hospital service", "PV1-14": "Admit source", "PV1-17": "Admitting doctor",
	"PV1-18": "Patient type", "PV1-19": "Visit number", "PV1-20": "Financial class",
	"PV1-39": "Servicing facility", "PV1-44": "Admit date/time", "PV1-45": "Discharge date/time",
	"PV1-50": "Alternate visit ID", "PV1-51": "Visit indicator",

	"ORC-1": "Order control", "ORC-2": "Placer order number", "ORC-3": "Filler order number",
	"ORC-4": "Placer group number", "ORC-5": "Order status", "ORC-6": "Response flag",
	"ORC-7": "Quantity/timing", "ORC-7.4": "Quantity/timing start", "ORC-7.6": "Quantity/timing priority",
	"ORC-8": "Parent order", "ORC-9": "Transaction date/time", "ORC-10": "Entered by",
	"ORC-11": "Verified by", "ORC-12": "Ordering provider", "ORC-13": "Enterer's location",
	"ORC-14": "Call back phone number", "ORC-15": "Order effective date/time",
	"ORC-16": "Order control code reason", "ORC-17": "Entering organization",
	"ORC-18": "Entering device", "ORC-19": "Action by", "ORC-21": "Ordering facility name",

	"OBR-1": "Set ID", "OBR-2": "Placer order number", "OBR-3": "Filler order number",
	"OBR-4": "Universal service ID", "OBR-5": "Priority", "OBR-6": "Requested date/time",
	"OBR-7": "Observation date/time", "OBR-8": "Observation end date/time",
	"OBR-9": "Collection volume", "OBR-10": "Collector identifier", "OBR-11": "Specimen action code",
	"OBR-12": "Danger code", "OBR-13": "Relevant clinical information",
	"OBR-15": "Specimen source", "OBR-16": "Ordering provider", "OBR-17": "Order callback phone number",
	"OBR-18": "Placer field 1", "OBR-19": "Placer field 2", "OBR-20": "Filler field 1",
	"OBR-21": "Filler field 2", "OBR-22": "Results report/status change", "OBR-24": "Diagnostic service section",
	"OBR-25": "Result status", "OBR-27": "Quantity/timing", "OBR-27.4": "Quantity/timing start",
	"OBR-27.6": "Quantity/timing priority", "OBR-28": "Result copies to",
	"OBR-30": "Transportation mode", "OBR-31": "Reason for study", "OBR-32": "Principal result interpreter",
	"OBR-33": "Assistant result interpreter", "OBR-34": "Technician", "OBR-35": "Transcriptionist",
	"OBR-36": "Scheduled date/time", "OBR-39": "Collector's comment", "OBR-44": "Procedure code",
	"OBR-45": "Procedure code modifier", "OBR-46": "Placer supplemental service information",

	"NTE-3": "Note",
}

// Label returns the human-readable name of an HL7 field key ("ORC-7"), or "".
func Label(key string) string { return labels[key] }
