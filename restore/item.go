package restore

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ttl-archiver/ttl-archiver/archive"
	"github.com/ttl-archiver/ttl-archiver/internal/archivefs"
)

// ErrNoItem is the error of a line that holds no item to restore: the
// stream had no old image (stream view type KEYS_ONLY or NEW_IMAGE), or a
// record archived raw has no OldImage.
var ErrNoItem = errors.New("the line holds no item (the stream had no old image)")

// itemDecoder turns archive lines into items.
type itemDecoder struct {
	hints TypeHints
}

// newItemDecoder returns a decoder applying hints to json-format lines,
// plus a B hint for each binary key attribute of keys that has none (a
// binary key reads as a base64 string in json-format lines).
func newItemDecoder(hints TypeHints, keys []KeyAttr) *itemDecoder {
	h := TypeHints{}
	for p, t := range hints {
		h[p] = t
	}
	for _, k := range keys {
		if _, ok := h[k.Name]; !ok && k.Type == "B" {
			h[k.Name] = "B"
		}
	}
	return &itemDecoder{hints: h}
}

// item returns the item of a line, and whether it came from the stream
// record of a line archived raw.
func (d *itemDecoder) item(l archive.Line) (Item, bool, error) {
	data, err := l.ItemJSON()
	if err != nil {
		return nil, false, err
	}
	if data != nil {
		var it Item
		if l.Format == archive.FormatDynamoDBJSONName {
			it, err = DecodeTypedItem(data)
		} else {
			it, err = decodePlainItem(data, d.hints)
		}
		return it, false, err
	}
	if l.Error == "" {
		return nil, false, ErrNoItem
	}
	// Archived raw: the stream record's OldImage is DynamoDB JSON.
	if raw, err := l.RawBytes(); err == nil && len(l.Raw) == 0 && len(raw) > 0 && !utf8.Valid(raw) {
		return nil, true, fmt.Errorf("archived raw (%s) and its record is not valid UTF-8 JSON: it cannot be converted", l.Error)
	}
	rec, err := archivefs.RawRecord(l)
	if err != nil {
		return nil, true, fmt.Errorf("archived raw (%s): %w", l.Error, err)
	}
	if rec == nil {
		return nil, true, fmt.Errorf("archived raw (%s) without its record", l.Error)
	}
	if len(rec.Dynamodb.OldImage) == 0 || string(rec.Dynamodb.OldImage) == "null" {
		return nil, true, fmt.Errorf("archived raw (%s): %w", l.Error, ErrNoItem)
	}
	it, err := DecodeTypedItem(rec.Dynamodb.OldImage)
	if err != nil {
		return nil, true, fmt.Errorf("archived raw (%s): OldImage: %w", l.Error, err)
	}
	return it, true, nil
}
