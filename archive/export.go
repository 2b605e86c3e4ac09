package archive

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ExportLine is one line of a DynamoDB incremental export in
// DYNAMODB_JSON (see AWS-FACTS.md, "Table exports"):
//
//	{"Metadata":{"WriteTimestampMicros":{"N":"..."}},"Keys":{...},"OldImage":{...},"NewImage":{...}}
//
// A deleted item has no NewImage. The byte slices are the members' raw
// JSON and point into the line given to [ParseExportLine]; nil when the
// member is absent or null.
type ExportLine struct {
	WriteTime                time.Time
	Keys, OldImage, NewImage []byte
}

var (
	exportLineNames = newMemberNames("Metadata", "Keys", "OldImage", "NewImage")
	metadataNames   = newMemberNames("WriteTimestampMicros")
	numberNames     = newMemberNames("N")
)

// ParseExportLine reads one line of an incremental export and checks that
// it is one valid JSON object with Keys and a write time.
func ParseExportLine(data []byte) (ExportLine, error) {
	var l ExportLine
	var micros []byte
	s := scanner{data: data}
	if s.peek() != '{' {
		return ExportLine{}, errors.New("parse export line: not a JSON object")
	}
	err := s.members(exportLineNames, func(i int, _ []byte) error {
		var err error
		switch i {
		case 0:
			if s.peek() != '{' {
				return s.skip()
			}
			return s.members(metadataNames, func(i int, _ []byte) error {
				if i != 0 || s.peek() != '{' {
					return s.skip()
				}
				return s.members(numberNames, func(i int, _ []byte) error {
					if i != 0 || s.peek() != '"' {
						return s.skip()
					}
					raw, flags, err := s.str()
					micros = decodeString(raw, flags)
					return err
				})
			})
		case 1:
			l.Keys, err = s.span()
		case 2:
			l.OldImage, err = s.span()
		case 3:
			l.NewImage, err = s.span()
		default:
			return s.skip()
		}
		return err
	})
	if err == nil {
		if s.ws(); s.pos != len(data) {
			err = s.errorf("data after the line's object")
		}
	}
	if err != nil {
		return ExportLine{}, fmt.Errorf("parse export line: %w", err)
	}
	if l.Keys == nil {
		return ExportLine{}, errors.New("parse export line: no Keys")
	}
	if micros == nil {
		return ExportLine{}, errors.New("parse export line: no Metadata.WriteTimestampMicros")
	}
	us, err := strconv.ParseInt(string(micros), 10, 64)
	if err != nil || us < 0 || us > maxEpoch*1e6 {
		return ExportLine{}, fmt.Errorf("parse export line: Metadata.WriteTimestampMicros %q is not a time in microseconds", micros)
	}
	l.WriteTime = time.UnixMicro(us).UTC()
	return l, nil
}

// ImageNumber returns the text of the number attribute name at the top of
// image (DynamoDB JSON, {"name":{"N":"..."}}); ok is false when the
// attribute is absent or not a number. err is set for an image that is
// not valid JSON.
func ImageNumber(image []byte, name string) (n []byte, ok bool, err error) {
	s := scanner{data: image}
	if s.peek() != '{' {
		return nil, false, errors.New("image is not an object")
	}
	err = s.object(func(attr []byte) error {
		if string(attr) != name || s.peek() != '{' {
			return s.skip()
		}
		return s.object(func(tag []byte) error {
			if string(tag) != "N" || s.peek() != '"' {
				return s.skip()
			}
			raw, flags, err := s.str()
			if v := decodeString(raw, flags); err == nil && isJSONNumber(v) {
				n, ok = v, true
			}
			return err
		})
	})
	if err != nil {
		return nil, false, err
	}
	return n, ok, nil
}
