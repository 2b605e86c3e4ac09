// Package backfill repairs an archive from DynamoDB's incremental
// exports: the TTL deletions that no stream delivered in time (a mapping
// disabled for more than a day, a stream re-created, a region without a
// stack) are still in the exports of the point-in-time recovery window,
// up to 35 days back.
//
// [Run] reads each export's manifests (manifest-summary.json,
// manifest-files.json) and refuses what it cannot use: a full export, a
// NEW_IMAGE export, an export of another table. It reads the table's
// archived lines in the exports' windows (every region's archive: a
// global table's export in one region holds the deletions every region
// ran), then every line of the exports' data files, and selects the
// deleted items (no NewImage) whose TTL attribute in OldImage was at or
// before the write time. A deletion already archived (same keys,
// deleted_at within [DefaultTolerance] of the write time) is left out;
// the others are written as archive lines by the archive package
// ([archive.LineWriter]) under the archive's own table=T/dt=DAY/
// partitions, in objects named ttl-archiver-backfill-EXPORTID-NNNN.gz.
// Their event ids are derived from the table, keys and write time, so a
// second run writes nothing.
//
// [RequestExports] starts the incremental exports that cover a time
// range, once it has checked that point-in-time recovery covers it.
//
// What an export cannot tell: whether a delete was TTL's (every
// recovered line says "ttl":"inferred"), and what an item was just
// before its delete: an export keeps one line per item and window, whose
// old image is the item when the window began. An item created and
// deleted inside one window is in no export.
package backfill
