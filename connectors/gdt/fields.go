package gdt

import "github.com/mesi/mconnect/app/domain"

// Field IDs used by the order and result mapping.
const (
	FieldRequestedService = "2998"
	FieldRequestRef       = "2999"
	FieldPatientID        = "3000"
	FieldNamePrefix       = "3100"
	FieldSurname          = "3101"
	FieldFirstName        = "3102"
	FieldBirthDate        = "3103"
	FieldTitle            = "3104"
	FieldInsuranceNumber  = "3105"
	FieldPostcodeCity     = "3106"
	FieldStreet           = "3107"
	FieldSex              = "3110"
	FieldPostcode         = "3112"
	FieldCity             = "3113"
	FieldCountry          = "3114"
	FieldMobile           = "3618"
	FieldEmail            = "3619"
	FieldHeight           = "3622"
	FieldWeight           = "3623"
	FieldPhone            = "3626"
	FieldLanguage         = "3628"
	FieldEmail2           = "3633"
	FieldDate             = "6200"
	FieldTime             = "6201"
	FieldFindings         = "6220"
	FieldComment          = "6227"
	FieldArchiveID        = "6302"
	FieldFileFormat       = "6303"
	FieldFileDescription  = "6304"
	FieldFileReference    = "6305"
	FieldFileContent      = "6329"
	FieldOrderID          = "8310"
	FieldOrderUID         = "8314"
	FieldReceiverID       = "8315"
	FieldSenderID         = "8316"
	FieldDeviceCode       = "8402"
	FieldTestID           = "8410"
	FieldTestName         = "8411"
	FieldTestStatus       = "8418"
	FieldResultValue      = "8420"
	FieldUnit             = "8421"
	FieldTestDate         = "8432"
	FieldTestTime         = "8439"
	FieldRangeText        = "8460"
	FieldRangeLow         = "8461"
	FieldRangeHigh        = "8462"
	FieldBillingType      = "8609"
)

// labels names the fields a person may meet in the Dashboard.
var labels = map[string]string{
	"2998": "Requested service",
	"2999": "Request reference",
	"3000": "Patient number",
	"3100": "Name prefix",
	"3101": "Surname",
	"3102": "First name",
	"3103": "Date of birth",
	"3104": "Title",
	"3105": "Insurance number",
	"3106": "Postcode and city",
	"3107": "Street",
	"3108": "Insured person type",
	"3110": "Sex",
	"3112": "Postcode",
	"3113": "City",
	"3114": "Country",
	"3618": "Mobile phone",
	"3619": "E-mail",
	"3622": "Height",
	"3623": "Weight",
	"3626": "Phone",
	"3628": "Mother tongue",
	"3629": "Order-related number",
	"3633": "E-mail",
	"6200": "Date",
	"6201": "Time",
	"6220": "Findings",
	"6227": "Comment",
	"6228": "Result table text",
	"6302": "File archive ID",
	"6303": "File format",
	"6304": "File description",
	"6305": "File reference",
	"6329": "File content (Base64)",
	"8000": "Record type",
	"8100": "Record length",
	"8310": "Order ID",
	"8314": "Order UID",
	"8315": "Receiver GDT ID",
	"8316": "Sender GDT ID",
	"8402": "Device/procedure code",
	"8410": "Test ID",
	"8411": "Test name",
	"8418": "Test status",
	"8420": "Result value",
	"8421": "Unit",
	"8432": "Test date",
	"8439": "Test time",
	"8460": "Normal range",
	"8461": "Normal range low",
	"8462": "Normal range high",
	"8470": "Test notes",
	"8480": "Result text",
	"8609": "Billing type",
	"9206": "Charset",
	"9218": "GDT version",
}

// Label returns a human-readable name for a field ID, "" when unknown.
func Label(id string) string { return labels[id] }

func init() { domain.RegisterFieldLabels(Label) }

// recordTypes names record types for messages.
var recordTypes = map[string]string{
	"6300": "request master data",
	"6301": "send master data",
	"6302": "order a new examination",
	"6303": "cancel an examination order",
	"6310": "send examination results",
	"6311": "show an examination",
}

// RecordTypeName returns the English name of a record type, "" when unknown.
func RecordTypeName(t string) string { return recordTypes[t] }
