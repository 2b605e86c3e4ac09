// Package verify proves an archive complete: for each source table, region
// and UTC day it compares DynamoDB's own count of TTL deletions (the
// CloudWatch metric TimeToLiveDeletedItemCount, namespace AWS/DynamoDB,
// dimension TableName, statistic Sum) with the distinct event_ids archived
// for that table, region and deleted_at day.
//
// The archive is counted by a [Counter]: [ArchiveCounter] reads the
// objects themselves (local folders or S3 prefixes, gzipped or not, one
// streaming pass, objects in parallel), [AthenaCounter] asks Athena to
// count through the stack's Glue table, for archives too big to stream.
// Both count per hour, so that a deletion that the metric and deleted_at
// put on different sides of midnight is matched across it (see [Run]).
//
// A global table (a table with more than one region) is judged on the sum
// over its regions for each day; its per-region rows are detail. DynamoDB
// runs a TTL delete in any replica region, and only that region's stream
// marks it as one, so each region's stack archives the deletions its
// region ran, and the union of the regions' archives is the archive.
//
// The command "ttl-archiver verify" and the stack's daily check
// (function/dailycheck) both call [Run]; [Daily] is the daily check's
// policy: which days, which reader, which metric it publishes.
package verify
