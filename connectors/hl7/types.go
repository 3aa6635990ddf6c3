package hl7

import (
	"strconv"
	"strings"
)

// DataType is the name of an HL7 v2 data type ("XPN", "CE", "TS").
type DataType string

// Data types the readable-text renderer knows. Any other type (and the
// simple ones: ST, ID, IS, SI, NM, TX, FT ...) is shown as its text.
const (
	TypeCE  DataType = "CE"  // coded element: identifier^text^coding system^alternate ...
	TypeCNE DataType = "CNE" // coded with no exceptions (read like CE)
	TypeCQ  DataType = "CQ"  // composite quantity with units
	TypeCWE DataType = "CWE" // coded with exceptions (read like CE, plus original text)
	TypeCX  DataType = "CX"  // extended composite ID with check digit
	TypeDLN DataType = "DLN" // driver's licence number
	TypeDT  DataType = "DT"  // date
	TypeDTM DataType = "DTM" // date/time
	TypeEI  DataType = "EI"  // entity identifier
	TypeEIP DataType = "EIP" // entity identifier pair (placer, filler)
	TypeFC  DataType = "FC"  // financial class
	TypeFT  DataType = "FT"  // formatted text
	TypeHD  DataType = "HD"  // hierarchic designator
	TypeID  DataType = "ID"  // coded value from an HL7 table
	TypeIS  DataType = "IS"  // coded value from a user-defined table
	TypeMSG DataType = "MSG" // message type
	TypeNDL DataType = "NDL" // name with date and location
	TypeNM  DataType = "NM"  // numeric
	TypePL  DataType = "PL"  // person location
	TypeSI  DataType = "SI"  // sequence ID
	TypeSPS DataType = "SPS" // specimen source
	TypeST  DataType = "ST"  // string
	TypeTQ  DataType = "TQ"  // timing/quantity
	TypeTS  DataType = "TS"  // time stamp
	TypeTX  DataType = "TX"  // text data
	TypeXAD DataType = "XAD" // extended address
	TypeXCN DataType = "XCN" // extended composite ID number and name for persons
	TypeXON DataType = "XON" // extended composite name and ID for organizations
	TypeXPN DataType = "XPN" // extended person name
	TypeXTN DataType = "XTN" // extended telecommunication number
)

// fieldTypes gives the data type of each field of the segments the ORM
// mapping lists in Order.Fields (MSH-7 and MSH-10, every PID, PV1, ORC and
// OBR field, NTE-3), as HL7 v2.3 to v2.5 define them. Where a later version
// changed a type compatibly (CE to CWE, TS to DTM) the one read here covers
// both. A field a version withdrew (OBR-5 priority, ORC-7 and OBR-27
// quantity/timing in 2.5) keeps its old type: senders still fill it.
var fieldTypes = map[string][]DataType{
	// MSH-1 .. MSH-21 (MSH-1 and MSH-2 are the delimiters).
	"MSH": {"ST", "ST", TypeHD, TypeHD, TypeHD, TypeHD, TypeTS, "ST", TypeMSG, "ST", "PT", "VID", "NM", "ST",
		TypeID, TypeID, TypeID, TypeID, TypeCE, TypeID, TypeEI},
	// PID-1 .. PID-39.
	"PID": {TypeSI, TypeCX, TypeCX, TypeCX, TypeXPN, TypeXPN, TypeTS, TypeIS, TypeXPN, TypeCE,
		TypeXAD, TypeIS, TypeXTN, TypeXTN, TypeCE, TypeCE, TypeCE, TypeCX, TypeST, TypeDLN,
		TypeCX, TypeCE, TypeST, TypeID, TypeNM, TypeCE, TypeCE, TypeCE, TypeTS, TypeID,
		TypeID, TypeIS, TypeTS, TypeHD, TypeCE, TypeCE, TypeST, TypeCE, TypeCWE},
	// PV1-1 .. PV1-52.
	"PV1": {TypeSI, TypeIS, TypePL, TypeIS, TypeCX, TypePL, TypeXCN, TypeXCN, TypeXCN, TypeIS,
		TypePL, TypeIS, TypeIS, TypeIS, TypeIS, TypeIS, TypeXCN, TypeIS, TypeCX, TypeFC,
		TypeIS, TypeIS, TypeIS, TypeIS, TypeDT, TypeNM, TypeNM, TypeIS, TypeIS, TypeDT,
		TypeIS, TypeNM, TypeNM, TypeIS, TypeDT, TypeIS, "DLD", TypeCE, TypeIS, TypeIS,
		TypeIS, TypePL, TypePL, TypeTS, TypeTS, TypeNM, TypeNM, TypeNM, TypeNM, TypeCX,
		TypeIS, TypeXCN},
	// ORC-1 .. ORC-31.
	"ORC": {TypeID, TypeEI, TypeEI, TypeEI, TypeID, TypeID, TypeTQ, TypeEIP, TypeTS, TypeXCN,
		TypeXCN, TypeXCN, TypePL, TypeXTN, TypeTS, TypeCE, TypeCE, TypeCE, TypeXCN, TypeCE,
		TypeXON, TypeXAD, TypeXTN, TypeXAD, TypeCWE, TypeCWE, TypeTS, TypeCWE, TypeCWE, TypeCNE,
		TypeCWE},
	// OBR-1 .. OBR-50.
	"OBR": {TypeSI, TypeEI, TypeEI, TypeCE, TypeID, TypeTS, TypeTS, TypeTS, TypeCQ, TypeXCN,
		TypeID, TypeCE, TypeST, TypeTS, TypeSPS, TypeXCN, TypeXTN, TypeST, TypeST, TypeST,
		TypeST, TypeTS, "MOC", TypeID, TypeID, "PRL", TypeTQ, TypeXCN, TypeEIP, TypeID,
		TypeCE, TypeNDL, TypeNDL, TypeNDL, TypeNDL, TypeTS, TypeNM, TypeCE, TypeCE, TypeCE,
		TypeID, TypeID, TypeCE, TypeCE, TypeCE, TypeCE, TypeCE, TypeCWE, TypeIS, TypeCWE},
	// NTE-1 .. NTE-4.
	"NTE": {TypeSI, TypeID, TypeFT, TypeCE},
}

// componentTypes gives the type of the components the mapping lists apart
// (the TQ start time and priority).
var componentTypes = map[string]DataType{
	"ORC-7.4": TypeTS, "ORC-7.6": TypeID, "OBR-27.4": TypeTS, "OBR-27.6": TypeID,
}

// FieldType returns the HL7 data type of the field or component at key
// ("PID-5" is XPN, "ORC-7.4" TS), or "" when the table does not know it.
func FieldType(key string) DataType {
	if t, ok := componentTypes[key]; ok {
		return t
	}
	seg, num, ok := strings.Cut(key, "-")
	if !ok {
		return ""
	}
	n, err := strconv.Atoi(num)
	types := fieldTypes[seg]
	if err != nil || n < 1 || n > len(types) {
		return ""
	}
	return types[n-1]
}
