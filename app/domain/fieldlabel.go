package domain

// fieldLabels are the labels connectors give their field keys ("PID-5":
// "Patient name"), registered from their packages' init functions and
// only read after.
var fieldLabels []func(key string) string

// RegisterFieldLabels adds a connector's labels for its Field keys. Call
// it from an init function. The store leaves a field's label out of the
// stored order when it is the label registered for its key, and puts it
// back when it reads the order: an order's fields are a good part of its
// row, and the labels are the same in every order.
func RegisterFieldLabels(label func(key string) string) {
	fieldLabels = append(fieldLabels, label)
}

// FieldLabel returns the label registered for key ("" when none is).
func FieldLabel(key string) string {
	for _, label := range fieldLabels {
		if l := label(key); l != "" {
			return l
		}
	}
	return ""
}
