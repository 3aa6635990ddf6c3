// Package hl7net holds the hub's HL7 v2 connections: they combine the
// codec and mapping of connectors/hl7 with the MLLP transport of
// connectors/mllp (or HTTP, for WEDA).
//
//   - MLLPInbound listens for ORM^O01 orders (Birpis, Hipokrat, Iris, Isoz,
//     NextGen), hands each to a domain.OrderSink and acknowledges only after
//     the sink stored it.
//   - MLLPOutbound (a domain.Outbound) sends ORU^R01 results to the EHR's
//     host:port and classifies its ACK.
//   - WEDACodec turns one HL7 file dropped by WEDA into orders; the folder
//     watcher calls it.
//   - WEDAOutbound (a domain.Outbound) POSTs ORU^R01 results to WEDA's HTTP
//     endpoint with its API token.
package hl7net
