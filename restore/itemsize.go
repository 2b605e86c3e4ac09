package restore

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxItemBytes is DynamoDB's item size limit, 400 KB (see AWS-FACTS.md):
// PutItem, BatchWriteItem and ImportTable refuse a larger item.
const MaxItemBytes = 400 * 1024

// itemSize is the item's size as DynamoDB counts it: each attribute's
// name in UTF-8 bytes plus its value; a string's UTF-8 bytes, a binary's
// bytes, a number's significant digits at two per byte plus one, one
// byte for a boolean or null, 3 bytes for a list or map plus one per
// element (and a map's names), a set's elements. The counts are
// DynamoDB's documented ones; DynamoDB itself decides on items near the
// limit.
func itemSize(it Item) int {
	n := 0
	for name, av := range it {
		n += len(name) + valueSize(av)
	}
	return n
}

func valueSize(av types.AttributeValue) int {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		return sumLen(v.Value)
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		return sumLen(v.Value)
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// sumLen adds the lengths of a set's strings or byte slices.
func sumLen[T ~string | ~[]byte](set []T) int {
	n := 0
	for _, e := range set {
		n += len(e)
	}
	return n
}

// numberSize counts a number's significant digits, two per byte, plus one.
// It reads the digits in place: it runs for every number of every item.
func numberSize(s string) int {
	first, last, digits := -1, -1, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' {
			continue
		}
		if c != '0' {
			if first < 0 {
				first = digits
			}
			last = digits
		}
		digits++
	}
	n := 0
	if first >= 0 {
		n = last - first + 1
	}
	return (n+1)/2 + 1
}
