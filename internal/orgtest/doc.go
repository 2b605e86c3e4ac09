// Package orgtest runs the organisation options of template.yaml (issue
// 24: a customer-managed KMS key, an archive bucket the stack did not
// create, Object Lock) end to end against moto_server, a stand-in for AWS
// the project did not write: the template is resolved with the option,
// moto's Firehose delivers archive lines into the bucket it names, and
// internal/archivefs, the reader of cat and restore, reads them back.
//
// It holds tests only.
package orgtest
