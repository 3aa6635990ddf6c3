// Package domain holds the plain types the hub works with: patients, visits,
// providers, orders (appointments on a tablet's worklist), results with their
// observations, tablets (devices), tablet groups and deliveries.
//
// The package does no I/O. Every other package of the hub speaks in these
// types: codecs map EHR messages into them, the store persists them, the
// device endpoint serialises them for tablets, and outbound connectors map
// them back into the EHR's format.
package domain
