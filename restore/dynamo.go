package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// DynamoDBAPI is the part of the DynamoDB client restore uses, with the
// SDK's own signatures, so that *dynamodb.Client satisfies it and tests
// can pass a fake.
type DynamoDBAPI interface {
	BatchWriteItem(ctx context.Context, params *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// Errors callers and tests branch on.
var (
	ErrTableNotFound = errors.New("table not found")
	ErrKeySchema     = errors.New("items do not match the table's key schema")
	ErrAccessDenied  = errors.New("access denied")
)

// KeyAttr is one attribute of a table's primary key.
type KeyAttr struct {
	Name    string
	Type    string // "S", "N" or "B"
	KeyType string // "HASH" or "RANGE"
}

func (k KeyAttr) role() string {
	if k.KeyType == "RANGE" {
		return "sort key"
	}
	return "partition key"
}

// describeKeys returns the table's key schema, HASH first.
func describeKeys(ctx context.Context, c DynamoDBAPI, table, region string) ([]KeyAttr, error) {
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, describeError(err, "dynamodb:DescribeTable", table, region)
	}
	if out.Table == nil {
		return nil, fmt.Errorf("describe table %s: empty answer", table)
	}
	types := map[string]string{}
	for _, d := range out.Table.AttributeDefinitions {
		types[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	var keys []KeyAttr
	for _, k := range out.Table.KeySchema {
		ka := KeyAttr{Name: aws.ToString(k.AttributeName), Type: types[aws.ToString(k.AttributeName)], KeyType: string(k.KeyType)}
		if ka.KeyType == "HASH" {
			keys = append([]KeyAttr{ka}, keys...)
		} else {
			keys = append(keys, ka)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("describe table %s: no key schema in the answer", table)
	}
	return keys, nil
}

// checkKeys reports how item does not fit the key schema, naming the
// attribute, the item's type and the table's.
func checkKeys(item Item, keys []KeyAttr, table string) error {
	for _, k := range keys {
		av, ok := item[k.Name]
		if !ok {
			return fmt.Errorf("%w: the item has no attribute %q, table %s's %s (%s); the item's attributes of a key type are %s",
				ErrKeySchema, k.Name, table, k.role(), k.Type, scalarAttrs(item))
		}
		if t := avType(av); t != k.Type {
			return fmt.Errorf("%w: attribute %q is %s in the item but %s in table %s's key schema (its %s)",
				ErrKeySchema, k.Name, t, k.Type, table, k.role())
		}
	}
	return nil
}

// scalarAttrs lists the item's S, N and B attributes, for messages.
func scalarAttrs(item Item) string {
	var parts []string
	for name, av := range item {
		switch t := avType(av); t {
		case "S", "N", "B":
			parts = append(parts, fmt.Sprintf("%q (%s)", name, t))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	if len(parts) > 8 {
		parts = append(parts[:8], "...")
	}
	return strings.Join(parts, ", ")
}

func avType(av types.AttributeValue) string {
	switch av.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberM:
		return "M"
	}
	return "?"
}

// isThrottle reports errors that mean "slow down": DynamoDB's own, after
// the SDK's retries gave up.
func isThrottle(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "LimitExceededException":
		return true
	}
	return false
}

// describeError turns the errors a person can act on into messages that
// say what to do; others are wrapped with the action.
func describeError(err error, action, table, region string) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException":
			return fmt.Errorf("%w: table %s not found in region %s (check AWS_REGION and the table name)", ErrTableNotFound, table, regionName(region))
		case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException":
			return fmt.Errorf("%w: allow %s on table %s in region %s (%s)", ErrAccessDenied, action, table, regionName(region), ae.ErrorMessage())
		}
	}
	return fmt.Errorf("%s on table %s: %w", action, table, err)
}

func regionName(r string) string {
	if r == "" {
		return "(no region set)"
	}
	return r
}
