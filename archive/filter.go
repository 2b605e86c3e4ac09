package archive

// A TTL deletion is a REMOVE record whose userIdentity is exactly
// {"type":"Service","principalId":"dynamodb.amazonaws.com"} (AWS-FACTS.md).
// A delete by a user or an application carries no userIdentity. Matching is
// case-sensitive, as the event source mapping's FilterCriteria are; the
// function checks again because `sam local invoke` and other callers apply
// no filter.
const (
	ttlEventName   = "REMOVE"
	ttlIdentity    = "Service"
	ttlPrincipalID = "dynamodb.amazonaws.com"
)

// SkipReason says why a record was not archived.
type SkipReason uint8

const (
	notSkipped SkipReason = iota
	// SkipInsert and SkipModify are writes, not deletions.
	SkipInsert
	SkipModify
	// SkipUserRemove is a REMOVE made by a user or an application (no
	// userIdentity, or one that is not the DynamoDB service).
	SkipUserRemove
	// SkipOther is any other eventName.
	SkipOther
	numSkipReasons
)

var skipReasonNames = [numSkipReasons]string{"", "insert", "modify", "user_remove", "other_event"}

func (r SkipReason) String() string { return skipReasonNames[r] }

// classify decides whether a record is a TTL deletion. It returns
// notSkipped for one, else the reason to skip it.
func classify(eventName, identityType, principalID []byte, hasIdentity bool) SkipReason {
	switch string(eventName) {
	case ttlEventName:
		if hasIdentity && string(identityType) == ttlIdentity && string(principalID) == ttlPrincipalID {
			return notSkipped
		}
		return SkipUserRemove
	case "INSERT":
		return SkipInsert
	case "MODIFY":
		return SkipModify
	}
	return SkipOther
}
