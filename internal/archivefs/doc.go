// Package archivefs reads archive objects: the gzipped JSON-lines files that
// Firehose writes to S3 for the archiver, from S3 itself or from a local copy.
//
// A [Location] names where the objects are: "s3://bucket/prefix" or a local
// file or directory. A [Source] lists the objects under it in lexical order
// (the order of S3 listings, which for Firehose prefixes is the order of
// arrival) and reads them line by line, gunzipping when an object starts
// with the gzip magic bytes. Objects are streamed: no more than one line is
// held in memory at a time.
//
// A [Filter] selects archive lines by source table, deletion time and key
// values; it reads both archive formats ("json" and "dynamodb-json").
//
// The subcommands that read archives (cat, restore, export-import and
// redrive) share this package so that they accept the same sources and the
// same selection flags.
package archivefs
