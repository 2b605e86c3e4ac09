// Package samtemplate reads the project's AWS SAM template (template.yaml)
// the way CloudFormation would, without AWS, for what the project's own
// tests and local stand-ins need from it. cfn-lint validates the template.
//
// [Parse] turns the YAML into a plain tree in CloudFormation's long form
// (!Sub becomes {"Fn::Sub": ...}) and expands Fn::ForEach loops as the
// AWS::LanguageExtensions transform does. A [Resolver] evaluates intrinsic
// functions, conditions and Rules against parameter values; what only a
// deployment knows stays unresolved. [FirehoseDelivery] reads the Firehose
// stream's prefixes, compression and partitioning query, so that a local
// stand-in behaves as the deployed stream will, and [MappingFilters] an
// event source mapping's filter patterns (applied by internal/esm).
package samtemplate
