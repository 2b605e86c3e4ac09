// Package restore brings archived items back: into a DynamoDB table with
// BatchWriteItem ([Run]), into DynamoDB's own S3 import format for a new
// table made by ImportTable ([Export]), and, for batches the event source
// mapping gave up on, through the archiver again ([Redrive]).
//
// Items archived in the "dynamodb-json" format come back identical to the
// originals. Items archived in the "json" format come back with these
// differences, which type hints (see [TypeHints]) undo where they
// matter:
//
//   - string sets (SS) and number sets (NS) come back as lists (L) of
//     strings or numbers, binary sets (BS) as lists of base64 strings;
//   - binary values (B) come back as strings (S) holding their base64;
//   - numbers stay exact: every digit is kept, nothing goes through a
//     float64; DynamoDB stores them normalised, as it did the originals.
//
// Key attributes whose table key type is binary are decoded from base64
// without a hint, since DescribeTable says what they are.
package restore
