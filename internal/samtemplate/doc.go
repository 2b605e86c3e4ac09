// Package samtemplate reads the project's AWS SAM template (template.yaml)
// the way CloudFormation would, without AWS.
//
// [Parse] turns the YAML into a plain tree in CloudFormation's long form:
// short-form tags such as !Sub, !If or !GetAtt become {"Fn::Sub": ...},
// {"Fn::If": ...} and {"Fn::GetAtt": ["Res", "Attr"]}, and !Ref becomes
// {"Ref": ...}. [Template] gives the parameters, conditions and resources,
// looked up by logical id or type.
//
// A [Resolver] evaluates intrinsic functions against parameter values (the
// defaults, or values given as at deploy time): Ref to parameters and pseudo
// parameters, Fn::Sub, Fn::If on conditions built from Fn::Equals, Fn::Not,
// Fn::And and Fn::Or, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap and
// Fn::Base64. What only a deployment knows (a resource's Ref or attribute)
// stays unresolved. [FirehoseDelivery] uses it to read the Firehose stream's
// prefixes, compression, buffering and dynamic partitioning query, so that a
// local stand-in behaves as the deployed stream will.
//
// The checks of the template live here too: [SAMSchema] validates
// AWS::Serverless::* resources against the SAM JSON schema (draft 4),
// [Spec] validates every other resource's properties against the
// CloudFormation resource database of the npm package
// @aws-cdk/aws-service-spec, [CheckReferences] finds Refs, attributes and
// conditions that name nothing, and [FilterPattern] applies a Lambda event
// filter pattern to a record as the event source mapping does.
package samtemplate
