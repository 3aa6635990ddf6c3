package hl7net

import (
	"fmt"

	"github.com/mesi/mconnect/app/domain"
	"github.com/mesi/mconnect/connectors/hl7"
)

// WEDACodec turns the HL7 files WEDA drops into its inbound folder into
// orders. It is pure: the folder watcher reads the file, calls it, hands the
// orders to the sink and archives or rejects the file.
type WEDACodec struct {
	mapper *hl7.Mapper
}

// NewWEDACodec returns a codec for one WEDA connection. opts.WEDA is forced
// on: requestedDate is stamped with opts.Now and task_type/activity_id come
// from ORC-2 (see hl7.WEDATask).
func NewWEDACodec(opts hl7.MapOptions) *WEDACodec {
	opts.WEDA = true
	return &WEDACodec{mapper: hl7.NewMapper(opts)}
}

// OrdersFromFile maps one file (one ORM^O01 message, any number of ORC
// groups). Errors are *hl7.Error values that say where and what.
func (c *WEDACodec) OrdersFromFile(data []byte) ([]domain.Order, error) {
	_, orders, err := c.mapper.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("weda file: %w", err)
	}
	return orders, nil
}

// OrderFromFile maps a file holding exactly one order.
func (c *WEDACodec) OrderFromFile(data []byte) (domain.Order, error) {
	orders, err := c.OrdersFromFile(data)
	if err != nil {
		return domain.Order{}, err
	}
	if len(orders) != 1 {
		return domain.Order{}, fmt.Errorf("weda file: holds %d orders; use OrdersFromFile", len(orders))
	}
	return orders[0], nil
}
