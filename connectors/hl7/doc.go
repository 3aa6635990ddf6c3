// Package hl7 is the hub's HL7 v2 codec: an ER7 (pipe-and-hat) parser and
// writer, the mapping of ORM^O01 orders into domain.Order, the ACK builder
// and the ORU^R01 result builder.
//
// Every field the ORM mapping lists in Order.Fields carries, beside its exact
// value, a text for people (FieldText): names, addresses, phones, codes,
// identifiers, times and locations written out by their HL7 data type
// (types.go has the table of the fields' types), never with a component
// separator in it.
//
// The package does no I/O: it reads messages from bytes and writes ORUs to
// an io.Writer, taking the PDF report as an io.Reader. Transports
// (connectors/mllp) and connections (connectors/hl7net), which open files
// and sockets, sit on top of it.
//
// Paths address values the way HL7 documents do: "PID-5.1" is component 1 of
// field 5 of the first PID segment, "PID-11[2].3" is component 3 of the second
// repetition of PID-11, "PID-5.1.1" a subcomponent and "OBX(3)-5" field 5 of
// the third OBX segment. Repetitions and segment occurrences count from 1.
package hl7
