// Package gdt reads and writes GDT records (Gerätedatentransfer, versions
// 2.1 and 3.0) and maps them to and from the hub's domain types. It does no
// I/O: connectors/gdtfile moves the bytes.
//
// A GDT line is LLL FFFF content CR LF, where LLL is the line's encoded byte
// length (3 + 4 + content + 2, at most 999) and FFFF the field ID. A record
// (one file) starts with 8000 (record type); GDT 2.1 puts the total byte
// count of the record in 8100. Parse checks both and keeps every field, known
// or not, in file order. It reads what real EHRs write where every field is
// still unambiguous — LF-only line ends, prefixes counting characters or LF,
// a wrong 8100 that promises no more than the file holds, no final line end —
// and names each oddity in Record.Warnings (MapOrder copies them to the
// order's Meta[MetaWarnings]). CheckOrderType reads the record type before
// anything else, so that a result or a fragment is refused for what it is.
//
// Charsets follow field 9206 (1 DIN 66003 7-bit, 2 CP437 — the default,
// 3 ISO 8859-1 read as Windows-1252 in GDT 2.x but ISO 8859-15 in 3.x,
// 4 ISO 8859-15); UTF-8, written by tomedo by default, is accepted too: in
// CharsetAuto mode a file that is valid UTF-8 with non-ASCII bytes is read as
// UTF-8 whatever 9206 says (with a warning on the record). Encode writes a
// letter the charset lacks as the nearest one (Š as S) and names it in the
// record's warnings; '?' only where no letter is near.
//
// Inbound records 6301/6302 (new or updated appointment), 6303 (cancel) and
// 6311 (show an examination) map to a domain.Order via MapOrder; results go
// back as a 6310 record built by BuildResult. Note that GDT field 3101 is the
// surname and 3102 the first name.
//
// Every field an order lists in Order.Fields carries, beside its value as
// read, a text for people (FieldText): dates as YYYY-MM-DD, times as 15:04,
// the sex and known device codes in words.
package gdt
